package sessions

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// A sealed session is what the CLI holds in place of a refresh token: the
// upstream refresh token and the session it belongs to, encrypted for the
// broker alone (as WorkOS seals provider tokens), so that the broker
// keeps no per-session state and any replica can renew.
//
//	"v1." + base64url(nonce || AES-256-GCM ciphertext of the JSON)
//
// The AES key is HKDF-SHA256 (RFC 5869) of the signing key's private
// scalar with sealInfo as info, so rotating the signing key rotates the
// sealing key with it; sealInfo is the additional data too. Nonces are
// random (96 bits): a key seals far fewer than the 2^32 blobs after which
// GCM's random nonces start to risk a repeat (NIST SP 800-38D §8.3).
const (
	sealPrefix = "v1."
	sealInfo   = "sesame-broker sealed session v1"
	// MaxSealed bounds a sealed session, which arrives from the network:
	// Open refuses a longer one unread, and Seal refuses to make one.
	MaxSealed = 16 << 10
)

// ErrSealed is Open's one answer to anything it cannot open: tampered,
// truncated, of another version, sealed by a key no longer configured, or
// not a sealed session at all. One error for all of them tells a forger
// nothing; it never repeats the input, which may be a live credential.
var ErrSealed = errors.New("the sealed session is not valid at this broker: sign in again")

// Sealed is a sealed session's content.
type Sealed struct {
	// Session is the session the blob renews; its JKT names the key
	// whose DPoP proof must come with a renewal. Open returns what Seal
	// was given and judges none of it: the caller checks the proof, the
	// Expiry when it sets one, and asks the Store whether the session was
	// revoked.
	Session
	UpstreamRefreshToken string
	Upstream             string // the upstream provider's name in the broker's configuration
}

// sealedJSON is the plaintext, with short names: every byte of it is sent
// with each renewal.
type sealedJSON struct {
	SID      string    `json:"sid"`
	Sub      string    `json:"sub"`
	IDP      string    `json:"idp,omitempty"`
	Email    string    `json:"email,omitempty"`
	Name     string    `json:"name,omitempty"`
	JKT      string    `json:"jkt,omitempty"`
	AuthTime time.Time `json:"auth_time,omitzero"`
	IssuedAt time.Time `json:"iat,omitzero"`
	Expiry   time.Time `json:"exp,omitzero"`
	RT       string    `json:"rt,omitempty"`
	Upstream string    `json:"up,omitempty"`
}

// Seal encrypts s with the first key. s must name its session (ID and
// Subject).
func (k *Keys) Seal(s Sealed) (string, error) {
	if s.ID == "" || s.Subject == "" {
		return "", errors.New("seal a session: its ID and Subject are required")
	}
	plain, err := json.Marshal(sealedJSON{
		SID: s.ID, Sub: s.Subject, IDP: s.IDP, Email: s.Email, Name: s.Name, JKT: s.JKT,
		AuthTime: s.AuthTime.UTC(), IssuedAt: s.IssuedAt.UTC(), Expiry: s.Expiry.UTC(),
		RT: s.UpstreamRefreshToken, Upstream: s.Upstream,
	})
	if err != nil {
		return "", fmt.Errorf("seal a session: %w", err)
	}
	aead := k.signer().aead
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	rand.Read(buf) // never fails (crypto/rand, Go 1.24)
	buf = aead.Seal(buf, buf, plain, []byte(sealInfo))
	blob := sealPrefix + base64.RawURLEncoding.EncodeToString(buf)
	if len(blob) > MaxSealed {
		return "", fmt.Errorf("seal a session: the sealed session would be %d bytes, over the %d a renewal may send; the upstream refresh token or the claims are too long", len(blob), MaxSealed)
	}
	return blob, nil
}

// Open decrypts a sealed session with whichever configured key sealed it.
// Every refusal is ErrSealed.
func (k *Keys) Open(blob string) (*Sealed, error) {
	if len(blob) > MaxSealed || len(blob) <= len(sealPrefix) || blob[:len(sealPrefix)] != sealPrefix {
		return nil, ErrSealed
	}
	body := blob[len(sealPrefix):]
	for i := 0; i < len(body); i++ { // the decoder would skip line breaks
		if !isB64URL(body[i]) {
			return nil, ErrSealed
		}
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return nil, ErrSealed
	}
	for _, kk := range k.keys {
		n := kk.aead.NonceSize()
		if len(raw) < n+kk.aead.Overhead() {
			return nil, ErrSealed
		}
		plain, err := kk.aead.Open(nil, raw[:n], raw[n:], []byte(sealInfo))
		if err != nil {
			continue
		}
		var j sealedJSON
		if json.Unmarshal(plain, &j) != nil || j.SID == "" || j.Sub == "" {
			return nil, ErrSealed
		}
		return &Sealed{
			Session: Session{
				ID: j.SID, Subject: j.Sub, IDP: j.IDP, Email: j.Email, Name: j.Name, JKT: j.JKT,
				AuthTime: j.AuthTime, IssuedAt: j.IssuedAt, Expiry: j.Expiry,
			},
			UpstreamRefreshToken: j.RT,
			Upstream:             j.Upstream,
		}, nil
	}
	return nil, ErrSealed
}

// sealerFor derives a key's AES-256-GCM sealer.
func sealerFor(priv *ecdsa.PrivateKey) (cipher.AEAD, error) {
	d, err := priv.Bytes()
	if err != nil {
		return nil, err
	}
	secret, err := hkdf.Key(sha256.New, d, nil, sealInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func isB64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

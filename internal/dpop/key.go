package dpop

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// The two signing algorithms sesame makes proofs with: both have small
// keys and proofs, and every DPoP server supports at least ES256.
const (
	ES256 = "ES256"
	EdDSA = "EdDSA" // with Ed25519 keys (RFC 8037)
)

// Key is a DPoP key pair. It lives as long as the tokens bound to it, so
// it is kept with them (MarshalJSON, Parse) and never leaves the client:
// proofs carry only its public half.
type Key struct {
	alg string
	ec  *ecdsa.PrivateKey  // for ES256
	ed  ed25519.PrivateKey // for EdDSA
	// jwk is the public key's required members (RFC 7638 §3.2), the
	// header's jwk and the thumbprint's input alike.
	jwk map[string]string
}

// Generate makes a new key pair for alg, ES256 or EdDSA.
func Generate(alg string) (*Key, error) {
	switch alg {
	case ES256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate a DPoP key: %w", err)
		}
		return ecKey(priv)
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate a DPoP key: %w", err)
		}
		return edKey(priv), nil
	}
	return nil, fmt.Errorf("no DPoP keys for alg %q: sesame makes ES256 or EdDSA keys", alg)
}

// ChooseAlg picks the proof algorithm from a provider's
// dpop_signing_alg_values_supported (RFC 9449 §5.1): whichever of ES256
// and EdDSA it lists first, since the list may carry its preference;
// ES256 when it lists nothing, as every DPoP server supports ES256; ""
// when it lists neither.
func ChooseAlg(supported []string) string {
	if len(supported) == 0 {
		return ES256
	}
	for _, a := range supported {
		if a == ES256 || a == EdDSA {
			return a
		}
	}
	return ""
}

// Alg is the JWS algorithm the proofs are signed with.
func (k *Key) Alg() string { return k.alg }

// Thumbprint is the key's JWK SHA-256 thumbprint (RFC 7638), which bound
// tokens carry as cnf.jkt and authorization requests as dpop_jkt
// (RFC 9449 §6.1, §10).
func (k *Key) Thumbprint() string { return thumbprint(k.jwk) }

// thumbprint hashes a key's required JWK members in the canonical form of
// RFC 7638 §3.3: sorted names, no whitespace, which json.Marshal gives a
// map of base64url strings and JOSE names.
func thumbprint(members map[string]string) string {
	b, _ := json.Marshal(members) // a map[string]string always marshals
	sum := sha256.Sum256(b)
	return b64(sum[:])
}

// jwk is the stored form of a private key (RFC 7517, RFC 7518 §6.2,
// RFC 8037 §2).
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	Alg string `json:"alg,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	D   string `json:"d,omitempty"`
}

// MarshalJSON gives the private key as a JWK, for the OS keychain: it is
// secret, like the tokens bound to it.
func (k *Key) MarshalJSON() ([]byte, error) {
	j := jwk{Kty: k.jwk["kty"], Crv: k.jwk["crv"], Alg: k.alg, X: k.jwk["x"], Y: k.jwk["y"]}
	if k.ec != nil {
		d, err := k.ec.Bytes()
		if err != nil {
			return nil, fmt.Errorf("encode the DPoP key: %w", err)
		}
		j.D = b64(d)
	} else {
		j.D = b64(k.ed.Seed())
	}
	return json.Marshal(j)
}

// Parse reads a key that MarshalJSON wrote. Its errors never quote the
// input, which holds the private key; nor do they wrap the decoders'
// errors, which might.
func Parse(b []byte) (*Key, error) {
	var j jwk
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, errors.New("the DPoP key is not a JSON Web Key: damaged JSON")
	}
	var alg string
	switch {
	case j.Kty == "EC" && j.Crv == "P-256":
		alg = ES256
	case j.Kty == "OKP" && j.Crv == "Ed25519":
		alg = EdDSA
	default:
		return nil, fmt.Errorf("the DPoP key (kty %s, crv %s) is not a P-256 or Ed25519 key", name(j.Kty), name(j.Crv))
	}
	if j.Alg != "" && j.Alg != alg {
		return nil, fmt.Errorf("the DPoP key (kty %s, crv %s) names alg %s; it signs %s", j.Kty, j.Crv, name(j.Alg), alg)
	}
	if j.D == "" {
		return nil, errors.New("the DPoP key is a public key only: its private part is missing")
	}
	d, x, y := unb64(j.D, 32), unb64(j.X, 32), unb64(j.Y, 32)
	if alg == EdDSA {
		if d == nil || x == nil || j.Y != "" {
			return nil, errors.New("the DPoP key is a damaged Ed25519 key")
		}
		priv := ed25519.NewKeyFromSeed(d)
		if !bytes.Equal(priv.Public().(ed25519.PublicKey), x) {
			return nil, errors.New("the DPoP key is a damaged Ed25519 key: its public part does not match")
		}
		return edKey(priv), nil
	}
	if d == nil || x == nil || y == nil {
		return nil, errors.New("the DPoP key is a damaged P-256 key")
	}
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		return nil, errors.New("the DPoP key is a damaged P-256 key")
	}
	k, err := ecKey(priv)
	if err != nil || k.jwk["x"] != j.X || k.jwk["y"] != j.Y {
		return nil, errors.New("the DPoP key is a damaged P-256 key: its public part does not match")
	}
	return k, nil
}

func ecKey(priv *ecdsa.PrivateKey) (*Key, error) {
	pub, err := priv.PublicKey.Bytes() // 0x04 || x || y
	if err != nil || len(pub) != 65 {
		return nil, errors.New("the DPoP key is not a valid P-256 key")
	}
	return &Key{alg: ES256, ec: priv, jwk: map[string]string{
		"kty": "EC", "crv": "P-256", "x": b64(pub[1:33]), "y": b64(pub[33:]),
	}}, nil
}

func edKey(priv ed25519.PrivateKey) *Key {
	return &Key{alg: EdDSA, ed: priv, jwk: map[string]string{
		"kty": "OKP", "crv": "Ed25519", "x": b64(priv.Public().(ed25519.PublicKey)),
	}}
}

// name quotes a JOSE name for an error message only when JOSE registers
// it, so that no part of a damaged key ever lands in a message.
func name(s string) string {
	switch s {
	case "EC", "OKP", "RSA", "oct", "P-256", "P-384", "P-521", "secp256k1", "Ed25519", "Ed448", "X25519", "X448",
		ES256, "ES384", "ES512", "ES256K", EdDSA, "RS256", "PS256", "HS256":
		return s
	case "":
		return "(none)"
	}
	return "(unknown)"
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// unb64 decodes base64url without padding into exactly n bytes, or nil.
func unb64(s string, n int) []byte {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != n {
		return nil
	}
	return b
}

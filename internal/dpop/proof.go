package dpop

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// maxNonce caps a server's nonce: RFC 9449 sets no length, and a nonce is
// sent back on every later request to that server.
const maxNonce = 1024

// ProofClaims is what one proof is about: one request.
type ProofClaims struct {
	Method string // htm, the request's HTTP method
	URL    string // htu after HTU: query and fragment go
	// AccessToken, when the request presents one, is bound into the proof
	// as ath (RFC 9449 §4.2, §7).
	AccessToken string
	Nonce       string    // the server's latest DPoP-Nonce, if any (§8, §9)
	Now         time.Time // iat; required, so that proofs are reproducible in tests
}

// header and claims are a proof's JOSE header and payload (RFC 9449 §4.2).
type header struct {
	Typ string            `json:"typ"`
	Alg string            `json:"alg"`
	JWK map[string]string `json:"jwk"`
}

type claims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// Proof makes a DPoP proof JWT (RFC 9449 §4.2) for one request: a compact
// JWS whose header carries the public key, with a fresh random jti so
// that servers can refuse a replayed proof (§11.1).
func (k *Key) Proof(p ProofClaims) (string, error) {
	if k == nil || k.ec == nil && k.ed == nil {
		return "", errors.New("make a DPoP proof: no key (use Generate or Parse)")
	}
	if p.Method == "" {
		return "", errors.New("make a DPoP proof: no HTTP method")
	}
	if p.Now.IsZero() {
		return "", errors.New("make a DPoP proof: no time")
	}
	if p.Nonce != "" && !ValidNonce(p.Nonce) {
		return "", errors.New("make a DPoP proof: the nonce is not a valid DPoP nonce (RFC 9449 §8.1)")
	}
	htu, err := HTU(p.URL)
	if err != nil {
		return "", fmt.Errorf("make a DPoP proof: %w", err)
	}
	jti := make([]byte, 16) // 128 bits, which §4.2 asks for at least
	rand.Read(jti)
	c := claims{JTI: b64(jti), HTM: p.Method, HTU: htu, IAT: p.Now.Unix(), Nonce: p.Nonce}
	if p.AccessToken != "" {
		c.ATH = ATH(p.AccessToken)
	}
	return k.sign(header{Typ: "dpop+jwt", Alg: k.alg, JWK: k.jwk}, c)
}

// sign makes the compact JWS (RFC 7515 §7.1); an ES256 signature is R and
// S as 32 bytes each (RFC 7518 §3.4), not ASN.1.
func (k *Key) sign(h header, c claims) (string, error) {
	hb, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("make a DPoP proof: %w", err)
	}
	cb, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("make a DPoP proof: %w", err)
	}
	input := b64(hb) + "." + b64(cb)
	var sig []byte
	if k.ec != nil {
		digest := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, k.ec, digest[:])
		if err != nil {
			return "", fmt.Errorf("sign a DPoP proof: %w", err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	} else {
		sig = ed25519.Sign(k.ed, []byte(input))
	}
	return input + "." + b64(sig), nil
}

// HTU is the htu a proof names for a request to rawURL (RFC 9449 §4.2):
// the URL without query and fragment, normalised as servers compare it
// (RFC 3986 §6.2.2, §6.2.3): lower-case scheme and host, no default port,
// "/" for an empty path. Only absolute http and https URLs qualify. Its
// errors do not quote the URL, whose query may hold secrets.
func HTU(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", errors.New("the request URL does not parse")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", errors.New("the request URL is not an absolute http or https URL")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return "", errors.New("the request URL has no host")
	}
	host := strings.ToLower(u.Host)
	if port := u.Port(); port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		host = strings.TrimSuffix(host, ":"+port)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}

// ATH is the hash of an access token that a proof presenting it carries
// (RFC 9449 §4.2): base64url of its SHA-256, no padding.
func ATH(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return b64(sum[:])
}

// ValidNonce reports whether n is a nonce a proof may carry: 1*NQCHAR
// (RFC 9449 §8.1), at most 1024 bytes. A server's other values are
// ignored, since they would go back out in every later proof.
func ValidNonce(n string) bool {
	if n == "" || len(n) > maxNonce {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
)

// The JWS algorithms this package knows (RFC 7518 §3.4, RFC 8037 §3.1):
// the broker signs tokens with ES256 only; DPoP proofs may also use
// EdDSA with Ed25519 keys, as the sesame CLI can make either.
const (
	algES256 = "ES256"
	algEdDSA = "EdDSA"
)

// Upper bounds on what is parsed: a token of the broker is under 1 KiB,
// an ES256 proof about 600 bytes.
const (
	maxTokenLen = 16 << 10
	maxProofLen = 8 << 10
)

// compactJWS is a JWS in compact serialization (RFC 7515 §7.1), decoded.
type compactJWS struct {
	header  map[string]any
	payload []byte
	input   string // the signing input: header and payload as sent
	sig     []byte
}

// parseCompact splits s into header, payload and signature. It accepts
// only the base64url alphabet and the two dots, so that no padding and no
// whitespace (which Go's base64 decoders skip) can ride along.
func parseCompact(s string, max int) (compactJWS, error) {
	var j compactJWS
	if len(s) > max {
		return j, errors.New("too long")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return j, errors.New("not base64url")
		}
	}
	h, rest, ok1 := strings.Cut(s, ".")
	p, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") || h == "" || sig == "" {
		return j, errors.New("not three parts")
	}
	hb, err := b64decode(h)
	if err != nil {
		return j, err
	}
	if err := json.Unmarshal(hb, &j.header); err != nil || j.header == nil {
		return j, errors.New("the header is not a JSON object")
	}
	if j.payload, err = b64decode(p); err != nil {
		return j, err
	}
	if j.sig, err = b64decode(sig); err != nil {
		return j, err
	}
	j.input = s[:len(h)+1+len(p)]
	return j, nil
}

// headerString is a string header parameter; "" when absent or not a string.
func (j *compactJWS) headerString(name string) string {
	s, _ := j.header[name].(string)
	return s
}

// critical reports whether the header lists extensions that must be
// understood (RFC 7515 §4.1.11): this package understands none, so such
// a JWS is refused, as is one that says its payload is not base64url
// (RFC 7797, which requires crit).
func (j *compactJWS) critical() bool {
	_, crit := j.header["crit"]
	_, b64 := j.header["b64"]
	return crit || b64
}

// verify checks the signature with key for alg: ES256 as R||S, 32 bytes
// each (RFC 7518 §3.4), or Ed25519 (RFC 8037 §3.1).
func (j *compactJWS) verify(alg string, key crypto.PublicKey) bool {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		if alg != algES256 || k.Curve != elliptic.P256() || len(j.sig) != 64 {
			return false
		}
		digest := sha256.Sum256([]byte(j.input))
		r := new(big.Int).SetBytes(j.sig[:32])
		s := new(big.Int).SetBytes(j.sig[32:])
		return ecdsa.Verify(k, digest[:], r, s)
	case ed25519.PublicKey:
		if alg != algEdDSA || len(k) != ed25519.PublicKeySize {
			return false
		}
		return ed25519.Verify(k, []byte(j.input), j.sig)
	}
	return false
}

// typIs reports whether a typ header names the media type want: the
// comparison ignores case, and "application/" may be left out
// (RFC 7515 §4.1.9).
func typIs(typ, want string) bool {
	if len(typ) > len("application/") && strings.EqualFold(typ[:len("application/")], "application/") {
		typ = typ[len("application/"):]
	}
	return strings.EqualFold(typ, want)
}

// privateMembers are the JWK members that hold private or secret key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// parseJWK reads a public key in one of the two forms this package takes:
// EC P-256 (RFC 7518 §6.2.1) and OKP Ed25519 (RFC 8037 §2). It also gives
// the JWS algorithm the key signs with and its RFC 7638 thumbprint.
// Errors are about the key, never quote it, and start with "the".
func parseJWK(m map[string]any) (key crypto.PublicKey, alg, thumb string, err error) {
	for _, name := range privateMembers {
		if _, ok := m[name]; ok {
			return nil, "", "", errors.New("holds private key material")
		}
	}
	kty, _ := m["kty"].(string)
	crv, _ := m["crv"].(string)
	x, _ := m["x"].(string)
	switch {
	case kty == "EC" && crv == "P-256":
		y, _ := m["y"].(string)
		xb, yb := b64fixed(x, 32), b64fixed(y, 32)
		if xb == nil || yb == nil {
			return nil, "", "", errors.New("is a damaged P-256 key")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, xb...), yb...))
		if err != nil {
			return nil, "", "", errors.New("is not a point on P-256")
		}
		return pub, algES256, ecThumbprint("P-256", xb, yb), nil
	case kty == "OKP" && crv == "Ed25519":
		xb := b64fixed(x, ed25519.PublicKeySize)
		if xb == nil {
			return nil, "", "", errors.New("is a damaged Ed25519 key")
		}
		return ed25519.PublicKey(xb), algEdDSA, okpThumbprint(xb), nil
	}
	return nil, "", "", errors.New("is not a P-256 or Ed25519 key")
}

// Thumbprint is the JWK SHA-256 thumbprint of a public key (RFC 7638),
// which the broker uses as its keys' kid and tokens carry as cnf.jkt
// (RFC 9449 §6.1). It takes *ecdsa.PublicKey (P-256, P-384, P-521),
// ed25519.PublicKey and *rsa.PublicKey; a go-jose JSONWebKey's Key field
// is one of these.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		b, err := k.Bytes()
		if err != nil {
			return "", errors.New("thumbprint: not a valid EC public key")
		}
		n := (len(b) - 1) / 2
		return ecThumbprint(k.Curve.Params().Name, b[1:1+n], b[1+n:]), nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "", errors.New("thumbprint: not a valid Ed25519 public key")
		}
		return okpThumbprint(k), nil
	case *rsa.PublicKey:
		if k.N == nil || k.E <= 0 {
			return "", errors.New("thumbprint: not a valid RSA public key")
		}
		e := big.NewInt(int64(k.E)).Bytes()
		return hashMembers(`{"e":"` + b64(e) + `","kty":"RSA","n":"` + b64(k.N.Bytes()) + `"}`), nil
	}
	return "", errors.New("thumbprint: not an EC, Ed25519 or RSA public key")
}

// The thumbprint's input is the key's required members, sorted, without
// whitespace (RFC 7638 §3.2, §3.3); the coordinates are encoded from the
// decoded key, so that one key has one thumbprint.
func ecThumbprint(crv string, x, y []byte) string {
	return hashMembers(`{"crv":"` + crv + `","kty":"EC","x":"` + b64(x) + `","y":"` + b64(y) + `"}`)
}

func okpThumbprint(x []byte) string {
	return hashMembers(`{"crv":"Ed25519","kty":"OKP","x":"` + b64(x) + `"}`)
}

func hashMembers(s string) string {
	sum := sha256.Sum256([]byte(s))
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// strictB64 refuses encodings whose unused trailing bits are not zero,
// so that each value has one spelling.
var strictB64 = base64.RawURLEncoding.Strict()

func b64decode(s string) ([]byte, error) {
	b, err := strictB64.DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64url")
	}
	return b, nil
}

// b64fixed decodes base64url of exactly n bytes, or gives nil.
func b64fixed(s string, n int) []byte {
	if base64.RawURLEncoding.DecodedLen(len(s)) != n {
		return nil
	}
	b, err := b64decode(s)
	if err != nil || len(b) != n {
		return nil
	}
	return b
}

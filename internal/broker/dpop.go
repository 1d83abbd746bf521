package broker

import (
	"net/http"
	"strings"

	"github.com/sesame-cli/sesame/internal/dpop"
)

// DPoP (RFC 9449) passes through the broker. The CLI signs each proof for
// the provider's own endpoint (htu), with a key the broker never sees; the
// broker forwards the proof unchanged next to the client authentication it
// adds, and relays the provider's nonce back. It checks the proof's shape
// only: whether it is signed by the right key, for the right request and
// nonce, is for the provider to decide (§4.3), as it is for a code or a
// refresh token.
//
// Proofs go to the token endpoint (§5) and to pushed authorization
// requests (§10.1), and nowhere else: revocation (RFC 7009) and
// introspection (RFC 7662) are authenticated by the client credentials,
// which are the broker's, and RFC 9449 defines no proof for them; a
// confidential client's refresh tokens are not even bound to the key (§5).
// A DPoP header sent there is dropped, like a parameter those endpoints
// do not take.

// The header names as RFC 9449 spells them. Names are case-insensitive,
// but a provider that compares them as written still finds them.
const (
	dpopHeader      = "DPoP"
	dpopNonceHeader = "DPoP-Nonce"
)

// maxDPoPProof bounds a proof: an ES256 proof is under 1 KiB, an RSA one
// with a 4096-bit key in its jwk about 2 KiB.
const maxDPoPProof = 8 << 10

// dpopProof returns the DPoP proof to forward with a request to endpoint,
// "" when there is none. The proof is a header, so it is checked as the
// form is: at most one (§4.3 refuses more), bounded, and a compact JWS
// (§4.2), whose alphabet leaves nothing that could change the meaning of
// the request it is forwarded in. Refusals never repeat the value.
func dpopProof(endpoint string, h http.Header) (string, *apiError) {
	if endpoint != epToken && endpoint != epPAR {
		return "", nil
	}
	vs := h.Values(dpopHeader)
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", invalidRequest("the DPoP header is repeated: send one proof (RFC 9449 §4.3)")
	case len(vs[0]) > maxDPoPProof:
		return "", invalidRequest("the DPoP header is longer than 8 KiB")
	case !isCompactJWS(vs[0]):
		return "", invalidRequest("the DPoP header is not a compact JWS: three base64url parts joined by dots (RFC 9449 §4.2)")
	}
	return vs[0], nil
}

// isCompactJWS reports whether s is a JWS in compact serialization
// (RFC 7515 §7.1): header, payload and signature, each base64url without
// padding and none empty, since a proof is always signed (RFC 9449 §4.2
// forbids "none").
func isCompactJWS(s string) bool {
	parts := 0
	for part := range strings.SplitSeq(s, ".") {
		parts++
		if parts > 3 || !isBase64URL(part) {
			return false
		}
	}
	return parts == 3
}

// isBase64URL reports whether s is unpadded base64url (RFC 4648 §5) of
// at least one byte: a length of 1 modulo 4 encodes no whole byte.
func isBase64URL(s string) bool {
	if len(s) == 0 || len(s)%4 == 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// dpopNonce returns the provider's DPoP-Nonce to relay, "" when there is
// none or it is not one nonce of 1*NQCHAR (RFC 9449 §8.1) within 1 KiB:
// the CLI sends it back in every later proof, so anything else would be
// refused there anyway, and a header the broker passes on must not carry
// what the provider had no business sending.
func dpopNonce(h http.Header) string {
	if vs := h.Values(dpopNonceHeader); len(vs) == 1 && dpop.ValidNonce(vs[0]) {
		return vs[0]
	}
	return ""
}

package verify

import (
	"context"
	"net/http"
	"strings"
)

// presented is how a request presents its token.
type presented struct {
	scheme string // "DPoP" or "Bearer", "" when unknown
	token  string
}

// errBoundAsBearer refuses a DPoP-bound token sent as a bearer token; a
// client is told so with a DPoP challenge.
var errBoundAsBearer = tokenError("the token is bound to a DPoP key: present it with the DPoP scheme and a proof (RFC 9449 §7.1)")

// VerifyRequest checks the token a request presents and, for a token
// bound to a DPoP key, the proof that must come with it:
//
//   - "Authorization: DPoP <token>" for a bound token (cnf.jkt), with
//     exactly one DPoP header, a proof that CheckProof accepts for the
//     request's method and URL (see PublicURL) and the token, signed by
//     the key the token is bound to, and never seen before (RFC 9449
//     §7.1, §11.1);
//   - "Authorization: Bearer <token>" for a token bound to nothing. A
//     bound token presented so is refused: its binding would be moot.
//
// The token itself is checked as Verify does.
func (v *Verifier) VerifyRequest(r *http.Request) (*Claims, error) {
	c, _, err := v.verifyRequest(r)
	return c, err
}

func (v *Verifier) verifyRequest(r *http.Request) (*Claims, presented, error) {
	p, err := authorization(r.Header)
	if err != nil {
		return nil, p, err
	}
	c, err := v.Verify(r.Context(), p.token)
	if err != nil {
		return nil, p, err
	}
	if p.scheme == "Bearer" {
		if c.JKT != "" {
			return nil, p, errBoundAsBearer
		}
		return c, p, nil
	}
	if c.JKT == "" {
		return nil, p, tokenError("the token is not bound to a DPoP key: present it with the Bearer scheme")
	}
	proofs := r.Header.Values("DPoP")
	switch {
	case len(proofs) == 0:
		return nil, p, proofError("the request has no DPoP proof (RFC 9449 §7.1)")
	case len(proofs) > 1:
		return nil, p, proofError("the request has more than one DPoP header (RFC 9449 §4.3)")
	}
	u := v.requestURL(r)
	if u == "" {
		return nil, p, &verifyError{kind: ErrInvalidRequest, msg: "the request names no host"}
	}
	now, maxAge, leeway := v.now(), v.proofMaxAge(), v.leeway()
	proof, err := checkProof(proofs[0], r.Method, u, p.token, now, maxAge, leeway)
	if err != nil {
		return nil, p, err
	}
	if proof.jkt != c.JKT {
		return nil, p, proofError("the DPoP proof is signed by another key than the one the token is bound to")
	}
	size := v.ReplayCacheSize
	if size <= 0 {
		size = defaultReplayCacheSize
	}
	fresh, room := v.replay.add(proof.jkt, proof.jti, proof.iat.Add(maxAge+leeway), now, size)
	switch {
	case !fresh:
		return nil, p, proofError("the DPoP proof has been used before: make a new one for each request (RFC 9449 §11.1)")
	case !room:
		return nil, p, unavailable("too many recent DPoP proofs to check this one for replay", nil)
	}
	return c, p, nil
}

// authorization reads the one Authorization header (RFC 9110 §11.6.2),
// whose scheme is case-insensitive.
func authorization(h http.Header) (presented, error) {
	vals := h.Values("Authorization")
	switch {
	case len(vals) == 0:
		return presented{}, &verifyError{kind: ErrNoToken, msg: "the request has no Authorization header"}
	case len(vals) > 1:
		return presented{}, &verifyError{kind: ErrInvalidRequest, msg: "the request has more than one Authorization header"}
	}
	scheme, token, _ := strings.Cut(vals[0], " ")
	switch {
	case strings.EqualFold(scheme, "DPoP"):
		scheme = "DPoP"
	case strings.EqualFold(scheme, "Bearer"):
		scheme = "Bearer"
	default:
		return presented{}, &verifyError{kind: ErrNoToken, msg: "the Authorization header is not DPoP or Bearer"}
	}
	p := presented{scheme: scheme, token: strings.TrimLeft(token, " ")}
	if p.token == "" {
		return p, &verifyError{kind: ErrInvalidRequest, msg: "the Authorization header has no token"}
	}
	return p, nil
}

// requestURL is the URL the client sent r to, as its proof names it.
func (v *Verifier) requestURL(r *http.Request) string {
	if v.PublicURL != nil {
		return v.PublicURL(r)
	}
	if r.Host == "" {
		return ""
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.EscapedPath()
}

type contextKey struct{}

// NewContext returns a copy of ctx that carries c, as Middleware passes
// claims on to the handler; tests of handlers can use it too.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, contextKey{}, c)
}

// FromContext returns the claims Middleware verified for the request
// whose context ctx is.
func FromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(contextKey{}).(*Claims)
	return c, ok && c != nil
}

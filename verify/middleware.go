package verify

import (
	"errors"
	"net/http"
	"strings"
)

// algs is what a DPoP challenge offers (RFC 9449 §7.1): the algorithms
// VerifyRequest accepts proofs in.
const algs = `algs="ES256 EdDSA"`

// MiddlewareOptions tune Middleware.
type MiddlewareOptions struct {
	// RequireActive asks the broker, for every request, whether the
	// session is still active (Active): for operations that must stop as
	// soon as the person signs out, at the price of a round trip. Without
	// it a token is good until it expires.
	RequireActive bool
	// OnError, when set, is told of every refused request, with the
	// status it is answered with: for logs. err never holds the token or
	// the proof, but may name the broker's URLs.
	OnError func(r *http.Request, status int, err error)
}

// Middleware lets through only the requests that VerifyRequest accepts
// (and Active, with RequireActive), with their claims in the context for
// FromContext. It answers the others itself, without echoing the token:
//
//   - 401 with a DPoP and a Bearer challenge and no error code when the
//     request presents no token (RFC 6750 §3.1);
//   - 401 with error="invalid_token" or "invalid_dpop_proof" in the
//     challenge of the scheme the client used (RFC 9449 §7.1, RFC 6750 §3),
//     and a DPoP challenge for a bound token presented as a bearer token;
//   - 400 with error="invalid_request" for a malformed request;
//   - 503 when the broker's keys or its introspection endpoint cannot be
//     reached: the request is refused, since nothing is known about the
//     token, but not blamed on the client.
func Middleware(v *Verifier, opts MiddlewareOptions) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, p, err := v.verifyRequest(r)
			if err == nil && opts.RequireActive {
				var active bool
				if active, err = v.Active(r.Context(), p.token); err == nil && !active {
					err = tokenError("the session has ended: sign in again")
				}
			}
			if err != nil {
				status := refuse(w, p.scheme, err)
				if opts.OnError != nil {
					opts.OnError(r, status, err)
				}
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), c)))
		})
	}
}

// refuse answers a refused request and returns its status: the one place
// where errors become HTTP answers.
func refuse(w http.ResponseWriter, scheme string, err error) int {
	h := w.Header()
	desc := `error_description="` + quotable(description(err)) + `"`
	status := http.StatusUnauthorized
	switch {
	case errors.Is(err, ErrUnavailable):
		status = http.StatusServiceUnavailable
		h.Set("Retry-After", "5")
		http.Error(w, "the session could not be checked: try again later", status)
		return status
	case errors.Is(err, ErrNoToken):
		h.Add("WWW-Authenticate", "DPoP "+algs)
		h.Add("WWW-Authenticate", "Bearer")
	case errors.Is(err, ErrInvalidRequest):
		status = http.StatusBadRequest
		h.Add("WWW-Authenticate", `DPoP error="invalid_request", `+desc+", "+algs)
		h.Add("WWW-Authenticate", `Bearer error="invalid_request", `+desc)
	case errors.Is(err, ErrInvalidProof):
		h.Add("WWW-Authenticate", `DPoP error="invalid_dpop_proof", `+desc+", "+algs)
	case errors.Is(err, ErrInvalidToken):
		if scheme == "Bearer" && !errors.Is(err, errBoundAsBearer) {
			h.Add("WWW-Authenticate", `Bearer error="invalid_token", `+desc)
			h.Add("WWW-Authenticate", "DPoP "+algs)
		} else {
			h.Add("WWW-Authenticate", `DPoP error="invalid_token", `+desc+", "+algs)
		}
	default:
		status = http.StatusInternalServerError
		http.Error(w, "the request could not be verified", status)
		return status
	}
	http.Error(w, description(err), status)
	return status
}

// quotable makes s fit an error_description (RFC 6750 §3): printable
// ASCII without '"' and '\'.
func quotable(s string) string {
	s = strings.ReplaceAll(s, "§", "section ")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return ' '
		}
		return r
	}, s)
}

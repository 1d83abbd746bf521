// Package inspect decodes a JWT (an ID token or a JWT access token) and
// checks it the way a relying party or resource server would, so that
// "why is my aud wrong" and "which alg signs the ID token" get a local,
// correct answer instead of a token pasted into a website.
//
// The signature is verified against the issuer's published JWK Set
// (RFC 7515 §5.2, RFC 7517), with only asymmetric algorithms accepted
// (RFC 8725 §3.1, §3.2), and the registered claims iss, aud, exp, nbf and
// iat are checked as OpenID Connect Core §3.1.3.7 and RFC 9068 §4 describe.
// Every check is reported, passing or not, because the point is to explain
// the token, not merely to accept or refuse it.
package inspect

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/sesame-cli/sesame/internal/provider"
)

// DefaultSkew is the clock tolerance for exp, nbf and iat when
// Options.Skew is zero: the one ID token verification allows
// (provider.ClockSkew), so that `sesame claims` and login agree.
const DefaultSkew = provider.ClockSkew

// MaxTokenSize bounds the token read. Real tokens are a few KiB; one past
// this is a mistake (a whole file pasted) and not worth decoding.
const MaxTokenSize = 64 << 10

// Options say what the token is expected to be and how to reach its keys.
type Options struct {
	// HTTP fetches discovery documents and JWK Sets; the caller sets its
	// timeout. Nil means a client with a 10 s timeout.
	HTTP *http.Client
	// Issuer is the expected iss. When empty the token's own iss is used to
	// find the keys, and the iss check says it was not pinned: a forged
	// token naming the forger's server would then verify against the
	// forger's keys.
	Issuer string
	// JWKSURL is where the keys are, when known (a profile's stored
	// endpoints); otherwise it comes from discovery of Issuer, or of the
	// token's iss.
	JWKSURL string
	// Audience is the expected aud: the client id for ID tokens, the
	// resource (or urn:logto:organization:ID) for access tokens. Empty
	// means aud is shown but not checked.
	Audience string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Skew is the tolerance for exp, nbf and iat. Zero means DefaultSkew;
	// a negative value means none at all.
	Skew time.Duration
	// KeyJKT, for an access token of a DPoP-bound login, is the stored
	// key's thumbprint: cnf.jkt must name it (RFC 9449 §6.1).
	KeyJKT string
}

// Check is the outcome of one test of the token.
type Check struct {
	// Name is "signature", "iss", "aud", "exp", "nbf", "iat" or "cnf".
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Detail says what was found, e.g. "ES384, key kid=abc from
	// https://idp/jwks" or "expires in 4m (2026-11-22T10:00:00Z)".
	Detail string `json:"detail"`
}

// Report is everything Inspect found out about one token.
type Report struct {
	Token string `json:"token"`
	// Header and Claims are the decoded JOSE header and claims set; numbers
	// are json.Number, so they keep their exact text.
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims"`
	Checks []Check        `json:"checks"`
	// Valid is true when every check passed and nothing was malformed.
	Valid bool `json:"valid"`
	// Problems has one line per failure, each starting with what failed
	// ("malformed: …", "signature: …", "exp: …"); [] when Valid.
	Problems []string `json:"problems"`
}

// Inspect decodes raw and checks it against o. It returns ErrNotJWT for an
// opaque token and ErrEncrypted for a JWE; anything else wrong with the
// token, including keys that cannot be fetched, is a problem in the Report,
// so that the user still sees what the token says.
func Inspect(ctx context.Context, raw string, o Options) (*Report, error) {
	o = o.withDefaults()
	tok := clean(raw)
	r := &Report{Token: tok, Checks: []Check{}, Problems: []string{}}
	if len(tok) > MaxTokenSize {
		r.Problems = append(r.Problems, fmt.Sprintf("malformed: the token is %d bytes; sesame reads at most %d", len(tok), MaxTokenSize))
		return r, nil
	}
	jwt, err := decode(tok)
	if err != nil {
		return nil, err
	}
	r.Header, r.Claims = jwt.header, jwt.claims
	for _, p := range jwt.problems {
		r.Problems = append(r.Problems, "malformed: "+p)
	}

	if len(jwt.problems) > 0 {
		r.Checks = append(r.Checks, Check{Name: "signature", Detail: "not verified: the token is malformed"})
	} else {
		r.Checks = append(r.Checks, verifySignature(ctx, jwt, o))
		if err := ctx.Err(); err != nil {
			return nil, err // interrupted: a report about the network would mislead
		}
	}
	if jwt.claims != nil {
		r.Checks = append(r.Checks, checkClaims(jwt.claims, o)...)
	}
	for _, c := range r.Checks {
		if !c.OK {
			r.Problems = append(r.Problems, c.Name+": "+c.Detail)
		}
	}
	r.Valid = len(r.Problems) == 0
	return r, nil
}

func (o Options) withDefaults() Options {
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch {
	case o.Skew == 0:
		o.Skew = DefaultSkew
	case o.Skew < 0:
		o.Skew = 0
	}
	return o
}

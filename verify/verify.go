package verify

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// The defaults of a Verifier's Leeway and ProofMaxAge, for callers of
// CheckProof that want the same rules.
const (
	DefaultLeeway      = 30 * time.Second
	DefaultProofMaxAge = 60 * time.Second
)

// Claims are what a verified token says about its holder.
type Claims struct {
	Issuer    string // iss: the broker
	Subject   string // sub: the person, as the broker names them
	IDP       string // idp: the upstream provider they signed in at
	SessionID string // sid: the broker session, which sign-out ends
	Email     string // email, when the provider gave one
	Name      string // name, when the provider gave one
	JTI       string // jti: the token's id
	// JKT is the RFC 7638 thumbprint of the DPoP key the token is bound to
	// (cnf.jkt, RFC 9449 §6.1), "" for a bearer token.
	JKT string

	AuthTime time.Time // auth_time: when they signed in; zero when absent
	IssuedAt time.Time // iat
	Expiry   time.Time // exp

	// Raw is the whole payload as encoding/json decodes it into a map
	// (numbers are float64), for claims this package does not name.
	Raw map[string]any
}

// Verifier checks the broker's session tokens and the DPoP proofs that
// come with them. Set its fields before first use and leave them alone
// after; a Verifier is safe for concurrent use, and should live as long
// as the API does, since it caches the broker's keys and the proofs it
// has seen. Do not copy it.
type Verifier struct {
	// Issuer is the broker's sessions.issuer URL, as its tokens name it
	// (iss) and its discovery document does (issuer): both must match it
	// exactly. Required; https, or http on a loopback host.
	Issuer string
	// HTTP is the client for the broker's discovery document, keys and
	// introspection endpoint; nil means a client with a 10 s timeout. The
	// Verifier uses a copy that refuses redirects to other origins. If the
	// broker asks APIs to authenticate at its introspection endpoint, give
	// a client whose Transport adds the credentials.
	HTTP *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Leeway is the clock skew allowed for exp, nbf and iat; zero means
	// DefaultLeeway, a negative value none.
	Leeway time.Duration
	// ProofMaxAge is how old a DPoP proof may be (its iat, RFC 9449
	// §11.1), besides Leeway; zero or less means DefaultProofMaxAge.
	ProofMaxAge time.Duration
	// PublicURL, for an API behind a proxy that changes the scheme, host
	// or path, gives the URL a request was sent to as the client saw it
	// (query and fragment are ignored), which its DPoP proof names (htu).
	// nil means the request's own: https when r.TLS is set, else http,
	// then r.Host and r.URL's path.
	PublicURL func(r *http.Request) string
	// ReplayCacheSize bounds the number of proofs remembered to refuse
	// replays; zero means 100000. When it is full of proofs still young
	// enough to be replayed, requests are refused with ErrUnavailable
	// rather than let a replay through. The cache is this process's own:
	// an API that runs as several instances catches a proof replayed
	// within ProofMaxAge+Leeway only at the instance that saw it first.
	ReplayCacheSize int

	once      sync.Once
	setupErr  error
	issuerURL *url.URL
	httpc     *http.Client
	keys      keyCache
	replay    replayCache
}

func (v *Verifier) setup() error {
	v.once.Do(func() {
		v.issuerURL, v.setupErr = checkIssuer(v.Issuer)
		v.httpc = redirectClient(v.HTTP)
	})
	return v.setupErr
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) leeway() time.Duration {
	switch {
	case v.Leeway == 0:
		return DefaultLeeway
	case v.Leeway < 0:
		return 0
	}
	return v.Leeway
}

func (v *Verifier) proofMaxAge() time.Duration {
	if v.ProofMaxAge <= 0 {
		return DefaultProofMaxAge
	}
	return v.ProofMaxAge
}

// Verify checks a token on its own: a JWT (RFC 9068) signed ES256 by one
// of the broker's keys, named by kid; typ at+jwt; iss the Issuer; within
// its lifetime (exp, nbf, iat, give or take Leeway); with sub and sid.
// It does not check a DPoP proof, which needs the request: an API checks
// requests with VerifyRequest or Middleware.
//
// The broker's tokens name no audience, so every API that trusts the
// broker accepts every token it mints. What keeps one API from replaying
// a token at another is the DPoP binding: a proof names the URL it is
// for, and only the CLI's key can make one.
//
// Only the first token with an unknown kid, or the first after the key
// set has aged, waits for the network; the rest is offline.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if err := v.setup(); err != nil {
		return nil, err
	}
	j, err := parseCompact(token, maxTokenLen)
	if err != nil {
		return nil, tokenError("the token is not a signed JWT in compact form (RFC 7515 §7.1)")
	}
	switch {
	case j.headerString("alg") != algES256:
		return nil, tokenError("the token is not signed with ES256, the broker's algorithm")
	case j.critical():
		return nil, tokenError("the token's header requires extensions this verifier does not know (RFC 7515 §4.1.11)")
	case !typIs(j.headerString("typ"), "at+jwt"):
		return nil, tokenError("the token's typ is not at+jwt: it is not an access token (RFC 9068 §2.1)")
	case j.headerString("kid") == "":
		return nil, tokenError("the token's header names no key (kid)")
	}
	key, err := v.key(ctx, j.headerString("kid"))
	if err != nil {
		return nil, err
	}
	if !j.verify(algES256, key) {
		return nil, tokenError("the token's signature does not verify")
	}
	var raw map[string]any
	if err := json.Unmarshal(j.payload, &raw); err != nil || raw == nil {
		return nil, tokenError("the token's payload is not a JSON object")
	}
	c, err := claimsOf(raw)
	if err != nil {
		return nil, err
	}
	now, leeway := v.now(), v.leeway()
	switch {
	case c.Issuer != v.Issuer:
		return nil, tokenError("the token is from another issuer")
	case c.Expiry.IsZero():
		return nil, tokenError("the token has no expiry (exp)")
	case !now.Before(c.Expiry.Add(leeway)):
		return nil, tokenError("the token has expired")
	case c.IssuedAt.IsZero():
		return nil, tokenError("the token has no issued-at time (iat)")
	case c.IssuedAt.After(now.Add(leeway)):
		return nil, tokenError("the token is issued in the future: check the clocks")
	case c.Subject == "":
		return nil, tokenError("the token names no subject (sub)")
	case c.SessionID == "":
		return nil, tokenError("the token names no session (sid)")
	}
	if nbf, err := numericDate(raw, "nbf"); err != nil {
		return nil, err
	} else if !nbf.IsZero() && nbf.After(now.Add(leeway)) {
		return nil, tokenError("the token is not valid yet (nbf)")
	}
	return c, nil
}

// claimsOf reads the named claims, refusing a token where one has the
// wrong type.
func claimsOf(raw map[string]any) (*Claims, error) {
	c := &Claims{Raw: raw}
	for _, s := range []struct {
		name string
		dst  *string
	}{
		{"iss", &c.Issuer}, {"sub", &c.Subject}, {"idp", &c.IDP}, {"sid", &c.SessionID},
		{"email", &c.Email}, {"name", &c.Name}, {"jti", &c.JTI},
	} {
		if v, ok := raw[s.name]; ok {
			str, ok := v.(string)
			if !ok {
				return nil, tokenError("the token's " + s.name + " claim is not a string")
			}
			*s.dst = str
		}
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"auth_time", &c.AuthTime}, {"iat", &c.IssuedAt}, {"exp", &c.Expiry}} {
		var err error
		if *t.dst, err = numericDate(raw, t.name); err != nil {
			return nil, err
		}
	}
	if cnf, ok := raw["cnf"]; ok {
		m, _ := cnf.(map[string]any)
		c.JKT, _ = m["jkt"].(string)
		if c.JKT == "" {
			// Accepting it unbound would undo a binding this package
			// cannot check, such as a certificate's (RFC 8705 §3.1).
			return nil, tokenError("the token is bound to its holder by a confirmation method other than DPoP (cnf.jkt)")
		}
	}
	return c, nil
}

// numericDate reads a NumericDate claim (RFC 7519 §2): seconds since
// 1970, perhaps with a fraction; the zero time when absent.
func numericDate(raw map[string]any, name string) (time.Time, error) {
	v, ok := raw[name]
	if !ok {
		return time.Time{}, nil
	}
	f, ok := v.(float64)
	if !ok || f < 0 || f > maxDate {
		return time.Time{}, tokenError("the token's " + name + " claim is not a date in seconds since 1970")
	}
	return unixTime(f), nil
}

// maxDate bounds the dates read from tokens and proofs (the year 5138),
// far from where time arithmetic would overflow.
const maxDate = 1e11

func unixTime(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}

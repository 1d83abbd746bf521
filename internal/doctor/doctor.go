// Package doctor checks an identity provider's published metadata against
// what sesame needs and reports the result as a checklist, so that "why did
// login fail" and "does this tenant support PKCE" have an answer before a
// browser is ever opened.
//
// It reads the discovery document (OpenID Connect Discovery 1.0 §4, with the
// RFC 8414 §3 location as a fallback) and the JWK Set it points at
// (RFC 7517), and compares the provider's clock with this machine's. It
// never logs in and never sends client credentials.
package doctor

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/term"
)

// Status is one check's outcome.
type Status string

// A "fail" means login or token verification will not work as configured;
// a "warn" means something works less well or cannot be confirmed.
const (
	StatusOK   Status = "ok"
	StatusFail Status = "fail"
	StatusWarn Status = "warn"
)

// Symbol is the mark Render prints for s.
func (s Status) Symbol() string {
	switch s {
	case StatusOK:
		return "✓"
	case StatusFail:
		return "✗"
	default:
		return "!"
	}
}

// Item is one line of the checklist.
type Item struct {
	Status Status `json:"status"`
	// Check is a short, stable name such as "issuer" or "pkce"; scripts
	// reading the JSON form match on it.
	Check string `json:"check"`
	// Detail is what was found, e.g. "S256, plain" or "200 in 35 ms".
	Detail string `json:"detail"`
	// Remedy is what to do about it, one line, when Status is not ok.
	Remedy string `json:"remedy,omitempty"`
}

// Options say which provider to check and how to reach it.
type Options struct {
	// HTTP makes every request; the caller sets its timeout. Nil means a
	// client with a 10 s timeout.
	HTTP *http.Client
	// Issuer is the profile's issuer, compared exactly with the document's.
	Issuer string
	// ClientID is the profile's client, named in the auth-method check.
	ClientID string
	// Confidential is true when the profile goes through sesame-broker,
	// which authenticates at the token endpoint with client_secret_basic or
	// client_secret_post; false for a public client ("none").
	Confidential bool
	// DPoP is true when the profile binds its tokens with DPoP (dpop:
	// true): then a provider that does not advertise it is a failure.
	DPoP bool
	// Now is this machine's clock, compared with the provider's; default
	// time.Now.
	Now func() time.Time
}

// Report is the whole checklist for one issuer.
type Report struct {
	Issuer string `json:"issuer"`
	// OK is true when no check failed; warnings do not count.
	OK    bool   `json:"ok"`
	Items []Item `json:"checks"`
}

// Run performs every check that can run and never returns an error: a
// failure to reach the provider is itself the first item of the report.
// Checks that need the discovery document are skipped when it could not be
// read, since each would only repeat that failure.
func Run(ctx context.Context, o Options) *Report {
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Report{Issuer: o.Issuer}
	d, item := discover(ctx, o)
	r.Items = append(r.Items, item)
	if d != nil {
		md := d.md
		r.Items = append(r.Items, checkIssuer(o.Issuer, md), checkHTTPS(o.Issuer, md))
		r.Items = append(r.Items, checkEndpoints(md, d.isOIDC())...)
		r.Items = append(r.Items, checkPKCE(md))
		r.Items = append(r.Items, checkGrants(md)...)
		r.Items = append(r.Items, checkDPoP(md, o.DPoP))
		r.Items = append(r.Items,
			checkResponseTypes(md),
			checkAuthMethods(md, o.ClientID, o.Confidential),
			checkIssParameter(md),
			checkScopes(md),
		)
		var jwks *response
		if md.JWKSURI != "" {
			var it Item
			jwks, it = checkJWKS(ctx, o, md.JWKSURI)
			r.Items = append(r.Items, it)
		}
		r.Items = append(r.Items, checkIDTokenAlgs(md, d.isOIDC()), checkClock(d.resp, jwks))
	}
	r.OK = true
	for _, it := range r.Items {
		if it.Status == StatusFail {
			r.OK = false
		}
	}
	return r
}

// ANSI colours for the status marks; used only when Render is asked to.
const (
	green  = "\x1b[32m"
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

// Render writes the checklist for people: one line per item, "✓ check:
// detail", and the remedy on the next line after "→ ". Colour is for
// terminals only; the caller decides, since it knows whether w is one.
func Render(w io.Writer, r *Report, color bool) {
	var b strings.Builder
	for _, it := range r.Items {
		mark := it.Status.Symbol()
		if color {
			c := yellow
			switch it.Status {
			case StatusOK:
				c = green
			case StatusFail:
				c = red
			}
			mark = c + mark + reset
		}
		// Details quote the provider's documents: one inert line each.
		fmt.Fprintf(&b, "%s %s: %s\n", mark, it.Check, term.Clean(it.Detail))
		if it.Remedy != "" && it.Status != StatusOK {
			fmt.Fprintf(&b, "  → %s\n", term.Clean(it.Remedy))
		}
	}
	_, _ = io.WriteString(w, b.String())
}

func ok(check, detail string) Item { return Item{Status: StatusOK, Check: check, Detail: detail} }

func fail(check, detail, remedy string) Item {
	return Item{Status: StatusFail, Check: check, Detail: detail, Remedy: remedy}
}

func warn(check, detail, remedy string) Item {
	return Item{Status: StatusWarn, Check: check, Detail: detail, Remedy: remedy}
}

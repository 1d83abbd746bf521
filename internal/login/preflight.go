package login

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/term"
)

// The preflight asks the provider about the authorization request before
// the browser opens. The most common first mistakes, a wrong client id and
// a redirect URI the provider does not accept, are refused by the
// provider's own pages, which sesame never sees: without a check the user
// faces an error page while the terminal waits for the whole timeout.
//
// When the provider offers pushed authorization requests (RFC 9126), the
// request is pushed, and the provider checks it as its authorization
// endpoint would; the browser then gets the short request_uri URL. Else
// one GET of the authorization URL, without following redirects, shows
// what the browser would get: an error page (4xx), a redirect carrying
// error= (RFC 6749 §4.1.2.1), or the way to a sign-in page.

// preflightTimeout bounds the check: a provider that takes longer is
// reported by the browser instead.
const preflightTimeout = 10 * time.Second

// Verdict is the provider's answer to the check of an authorization
// request that it did not refuse.
type Verdict struct {
	// Pushed is the accepted pushed request, when the provider offers
	// RFC 9126 and the login pushed it.
	Pushed *grant.Pushed
	// Answer says what came back, for `sesame doctor`: "pushed
	// authorization request accepted (RFC 9126)", "HTTP 303 to the
	// provider's sign-in pages".
	Answer string
	// Warning is set when the check could not conclude (the provider was
	// unreachable from here, or answered ambiguously): the login goes on,
	// since the browser may fare better, and the user is told in one line.
	Warning string
}

// Checked reports whether the provider accepted the request, as opposed
// to a check that could not conclude.
func (v *Verdict) Checked() bool { return v != nil && v.Warning == "" }

// RefusedError is an authorization request the provider refused before
// the browser opened. Its message is the provider's answer, cleaned of
// control characters, and on a second line the fix.
type RefusedError struct {
	// Where answered: "pushed authorization request endpoint",
	// "authorization endpoint".
	Where  string
	Status int
	// Code and Description are the provider's OAuth error, when it sent
	// one; Text is what its error page says otherwise.
	Code, Description, Text string
	// Fix is what to do about it, one line.
	Fix string
}

func (e *RefusedError) Error() string {
	return "the provider refused the login before the browser opened: " + e.Answer() + "\n" + e.Fix
}

// Answer is the provider's answer, cleaned of control characters: its
// OAuth error, or what its error page says.
func (e *RefusedError) Answer() string {
	switch {
	case e.Code != "" && e.Description != "":
		return fmt.Sprintf("%s (%s)", term.Clean(e.Code), term.Clean(e.Description))
	case e.Text != "":
		return fmt.Sprintf(`its %s answered HTTP %d: "%s"`, e.Where, e.Status, term.Clean(e.Text))
	case e.Code != "":
		return term.Clean(e.Code)
	}
	return fmt.Sprintf("its %s answered HTTP %d", e.Where, e.Status)
}

// Check asks the provider whether it accepts the authorization request
// o would send with redirectURI, without a browser and without a login:
// what `sesame doctor --client-id` reports. A refusal is a *RefusedError.
func Check(ctx context.Context, o Options, redirectURI string) (*Verdict, error) {
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	req := newRequest(o)
	req.redirectURI = redirectURI
	return o.preflight(ctx, req, true)
}

// preflight checks req with the provider: pushed when the provider offers
// it (always when it requires it), else with a GET, unless o.NoPreflight.
// force runs the check whatever o.NoPreflight says.
func (o Options) preflight(ctx context.Context, req request, force bool) (*Verdict, error) {
	skip := o.NoPreflight && !force
	if o.Endpoints.PAR != "" && (!skip || o.Endpoints.PARRequired) {
		v, err := o.push(ctx, req)
		switch {
		case err != nil:
			return nil, err
		case v.Pushed != nil:
			return v, nil
		case o.Endpoints.PARRequired:
			return nil, fmt.Errorf("the provider takes pushed authorization requests only (RFC 9126), and sesame %s", cmp.Or(v.Warning, "found no broker endpoint for them (is sesame-broker up to date?)"))
		case v.Warning != "" && !skip:
			fmt.Fprintf(o.Stderr, "warning: sesame %s; checking the request with a GET instead\n", v.Warning)
		}
	}
	if skip {
		return &Verdict{Warning: "not checked (--no-preflight)"}, nil
	}
	return o.probe(ctx, req)
}

// pushURL is where a login pushes: sesame-broker's /par for a client
// that authenticates through it, else the provider's endpoint.
func (o Options) pushURL() string {
	if o.PushURL != "" {
		return o.PushURL
	}
	return o.Endpoints.PAR
}

// push sends req to the pushed authorization request endpoint. A refusal
// ends the login. A provider that cannot take the request (unreachable, a
// server error) gives a Verdict with a Warning, and a broker without an
// upstream endpoint an empty one: the login checks with a GET instead.
func (o Options) push(ctx context.Context, req request) (*Verdict, error) {
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	endpoint := o.pushURL()
	c := grant.Client{ClientID: o.ClientID, HTTP: o.HTTP} // the real clock: the request_uri expires in real time
	params := req.values(url.Values{})
	params.Del("client_id") // Push adds it
	pushed, err := c.Push(ctx, endpoint, params)
	if err == nil {
		return &Verdict{Pushed: pushed, Answer: "pushed authorization request accepted (RFC 9126)"}, nil
	}
	var ge *grant.Error
	if errors.As(err, &ge) && ge.Code != "" && ge.Status != http.StatusNotFound && !transient(ge.Code) {
		return nil, &RefusedError{
			Where: "pushed authorization request endpoint", Status: ge.Status,
			Code: ge.Code, Description: ge.Description,
			Fix: o.fix(req, ge.Code, ge.Description, ge.Status),
		}
	}
	if errors.As(err, &ge) && ge.Status == http.StatusNotFound && o.PushURL != "" {
		// A broker without the provider's endpoint (or an older broker
		// without /par): no verdict, and nothing to warn about.
		return &Verdict{}, nil
	}
	return &Verdict{Warning: fmt.Sprintf("could not push the authorization request (%v)", err)}, nil
}

// pushedTarget is where the start URL sends the browser after a pushed
// request: its request_uri URL, or, once that has expired (the user
// opened the address late, which --no-browser allows), the URL of the
// same request pushed again.
func (o Options) pushedTarget(ctx context.Context, req request, p *grant.Pushed) func() (string, error) {
	return func() (string, error) {
		if time.Until(p.Expiry) < 5*time.Second {
			v, err := o.push(ctx, req)
			if err != nil {
				return "", err
			}
			if v.Pushed == nil {
				return "", fmt.Errorf("push the authorization request again: %s", cmp.Or(v.Warning, "the broker no longer takes it"))
			}
			p = v.Pushed
		}
		return req.pushedURL(p.RequestURI)
	}
}

// transient error codes say nothing about the request.
func transient(code string) bool {
	return code == "server_error" || code == "temporarily_unavailable"
}

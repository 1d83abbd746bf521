// Package login runs the interactive authorization code flow for native
// apps (RFC 8252): a loopback listener, PKCE S256, state and nonce, a
// check of the request with the provider before the browser opens
// (preflight.go), the system browser and a waiting screen (wait.go), the
// code exchange and ID token verification.
package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/browser"
	"github.com/sesame-cli/sesame/internal/dpop"
	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/loopback"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/session"
)

// Options configure one login.
type Options struct {
	Endpoints provider.Endpoints
	ClientID  string
	Scopes    []string
	Resources []string
	Params    map[string]string
	Port      int
	Timeout   time.Duration
	NoBrowser bool
	Browser   browser.Opener
	Stderr    io.Writer
	HTTP      *http.Client
	Now       func() time.Time
	// TokenURL is where the code is exchanged: the provider's token
	// endpoint when empty, or a broker that authenticates the client.
	TokenURL string
	// Save stores the verified tokens. It runs before the browser is told
	// the outcome, so the page never claims a success that was not kept.
	Save func(*session.Tokens) error
	// Interactive (stderr is a terminal) adds the waiting screen (wait.go):
	// where the browser went, the elapsed time and a hint; scripts and
	// logs get only the URL and the outcome.
	Interactive bool
	// Progress is the terminal itself, unsanitised, for the one line the
	// waiting screen rewrites in place (only sesame's own text goes
	// there); nil means no such line.
	Progress io.Writer
	// NoPreflight skips checking the authorization request with the
	// provider before the browser opens (preflight.go); a provider that
	// requires pushed requests still gets one.
	NoPreflight bool
	// PushURL is where authorization requests are pushed when the
	// provider offers RFC 9126: sesame-broker's /par for a confidential
	// client; empty means the provider's own endpoint.
	PushURL string
	// DPoP, when set, binds the tokens to this key (RFC 9449): the code
	// to its thumbprint, every token request to a proof, and the key is
	// stored with the tokens. A provider that answers with a bearer token
	// fails the login.
	DPoP *dpop.Key
	// Session, when set, is sesame-broker's session mode: the code goes to
	// the broker with the upstream's name and the nonce, and what comes
	// back is the broker's own session token, bound to DPoP, verified
	// against the broker's keys instead of an ID token (session.go).
	Session *SessionMode
	// Trace, when set, is told how long each step took: "browser" (until
	// the browser was launched), "callback" (until the provider redirected
	// back), "exchange" and "verification", and "preflight" (the check
	// before the browser opens). It may be called concurrently.
	Trace func(step string, d time.Duration)

	// tick, hintAfter and grace pace the waiting screen (wait.go); tests
	// shorten them.
	tick, hintAfter, grace time.Duration
}

func (o Options) trace(step string, since time.Time) {
	if o.Trace != nil {
		o.Trace(step, time.Since(since))
	}
}

// Run performs the login and returns the stored tokens. On any failure
// nothing is saved.
func Run(ctx context.Context, o Options) (*session.Tokens, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := CheckParams(o.Params); err != nil {
		return nil, err
	}
	if err := checkVerifiable(o); err != nil {
		return nil, err
	}
	if !o.Endpoints.SupportsS256() {
		fmt.Fprintf(o.Stderr, "warning: the provider does not list S256 in code_challenge_methods_supported; sending it anyway\n")
	}
	req := newRequest(o)
	scr := newScreen(o)
	srv, err := loopback.Listen(loopback.Options{
		Port: o.Port, State: req.state,
		Issuer: o.Endpoints.Issuer, RequireIss: o.Endpoints.IssParameter,
		Warn: func(msg string) { scr.println("warning: %s", msg) },
	})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	req.redirectURI = srv.RedirectURI()
	authURL, err := req.url()
	if err != nil {
		return nil, err
	}
	// Ask the provider before the browser opens: a wrong client id or
	// redirect URI fails here, in seconds, with the fix.
	checkStart := time.Now()
	verdict, err := o.preflight(ctx, req, false)
	if err != nil {
		return nil, err
	}
	if verdict.Warning != "" && !o.NoPreflight {
		fmt.Fprintf(o.Stderr, "warning: %s\n", verdict.Warning)
	}
	o.trace("preflight", checkStart)
	// The browser, and the user with --no-browser, get the listener's
	// one-time start URL: the authorization URL itself would sit in the
	// browser launcher's command line, readable by every local user.
	target := func() (string, error) { return authURL, nil }
	if verdict.Pushed != nil {
		target = o.pushedTarget(ctx, req, verdict.Pushed)
	}
	if err := loopback.CheckTarget(authURL); err != nil {
		return nil, err
	}
	startURL, err := srv.StartWith(target)
	if err != nil {
		return nil, err
	}
	// A second fetch of the start URL may come while the code is being
	// exchanged (another program signed in first, the user's browser came
	// second): nothing may be stored then.
	save := o.Save
	o.Save = func(t *session.Tokens) error {
		if err := srv.Err(); err != nil {
			return err
		}
		return save(t)
	}

	started := time.Now()
	scr.announce(startURL, started)
	waitCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	tickCtx, stopTicks := context.WithCancel(waitCtx)
	ticking := make(chan struct{})
	go func() { defer close(ticking); scr.tick(tickCtx, started, o.waitHint()) }()
	resp, err := srv.Wait(waitCtx)
	stopTicks()
	<-ticking
	scr.clear()
	if err != nil {
		if stopped := srv.Err(); stopped != nil {
			return nil, stopped
		}
		return nil, waitError(err, o, waited{timeout: o.Timeout, opened: srv.Opened(), refused: srv.Refused(),
			checked: verdict.Checked(), noBrowser: o.NoBrowser})
	}
	o.trace("callback", started)
	toks, err := finish(ctx, o, req, resp.Code, resp.Err)
	if err != nil {
		resp.Finish(loopback.Page{Message: "Sign-in did not complete. Return to the terminal for details."})
		return nil, err
	}
	resp.Finish(loopback.Page{OK: true, Message: "You are signed in" + who(toks) + ". You can close this tab and return to the terminal."})
	return toks, nil
}

func finish(ctx context.Context, o Options, req request, code string, authErr *loopback.AuthError) (*session.Tokens, error) {
	if authErr != nil {
		return nil, explainAuthError(authErr)
	}
	tokenURL := o.TokenURL
	if tokenURL == "" {
		tokenURL = o.Endpoints.Token
	}
	start := time.Now()
	got, err := o.grantClient(tokenURL).Exchange(ctx, code, req.verifier, req.redirectURI, o.Session.exchangeParams(req.nonce))
	if err != nil {
		return nil, explainExchangeError(err, o.TokenURL != "")
	}
	o.trace("exchange", start)
	if o.Session != nil {
		return keepSession(ctx, o, got)
	}
	return keep(ctx, o, got, req.nonce)
}

// grantClient talks to tokenURL for this login; with DPoP, its proofs
// name the provider's token endpoint even when tokenURL is a broker's.
func (o Options) grantClient(tokenURL string) grant.Client {
	c := grant.Client{ClientID: o.ClientID, TokenURL: tokenURL, HTTP: o.HTTP, Now: o.Now,
		DPoP: o.DPoP, DPoPURL: o.Endpoints.Token}
	if o.Session != nil {
		c.DPoPURL = o.Session.TokenEndpoint // the broker checks the proofs itself
		c.Server = "sesame-broker"
	}
	return c
}

// checkVerifiable refuses, before anything is sent, an OpenID Connect login
// whose ID token could not be verified: without an issuer and a JWKS URL
// the signature, iss and aud cannot be checked, and an unchecked ID token
// must never be stored or printed. A plain OAuth 2.0 provider, which sends
// no ID token, is used by leaving openid out of the scopes.
func checkVerifiable(o Options) error {
	if !slices.Contains(o.Scopes, "openid") || o.Endpoints.IsOIDC() {
		return nil
	}
	missing := "no jwks_uri"
	if o.Endpoints.Issuer == "" {
		missing = "no issuer"
	}
	return fmt.Errorf("the login asks for the openid scope, but the provider has %s, so its ID tokens cannot be verified.\n"+
		"Set issuer and jwks_url in the profile, or, for a plain OAuth 2.0 provider that issues no ID tokens, scopes without openid (--scope)", missing)
}

// keep verifies the ID token of a token response (with the login's nonce,
// when it sent one), then stores the result: nothing unverified is kept.
func keep(ctx context.Context, o Options, got *grant.Tokens, nonce string) (*session.Tokens, error) {
	t := &session.Tokens{
		ClientID: o.ClientID, Endpoints: o.Endpoints,
		AccessToken: got.AccessToken, TokenType: got.TokenType, RefreshToken: got.RefreshToken,
		Expiry: got.Expiry, Scope: got.Scope, ObtainedAt: o.Now().UTC(),
	}
	if o.DPoP != nil {
		k, err := o.DPoP.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("keep the DPoP key: %w", err)
		}
		t.DPoPKey = k
	}
	if t.Scope == "" { // RFC 6749 §5.1: omitted means as requested
		t.Scope = strings.Join(o.Scopes, " ")
	}
	switch {
	case slices.Contains(o.Scopes, "openid"):
		if err := checkVerifiable(o); err != nil {
			return nil, err
		}
		if got.IDToken == "" {
			return nil, errors.New("the provider returned no ID token although the openid scope was requested")
		}
		start := time.Now()
		id, err := provider.VerifyIDToken(ctx, o.HTTP, o.Endpoints, o.ClientID, got.IDToken, nonce, o.Now)
		if err != nil {
			return nil, err
		}
		o.trace("verification", start)
		t.IDToken, t.Identity = got.IDToken, id
	case got.IDToken != "":
		// Not asked for, so there is no nonce to bind it to this login:
		// it is not kept, and nothing can print it later.
		fmt.Fprintln(o.Stderr, "warning: the provider sent an ID token although openid was not requested; it was not kept")
	}
	if err := o.Save(t); err != nil {
		return nil, err
	}
	return t, nil
}

func who(t *session.Tokens) string {
	if t.Identity == nil {
		return ""
	}
	for _, s := range []string{t.Identity.Email, t.Identity.Name, t.Identity.Username, t.Identity.Subject} {
		if s != "" {
			return " as " + s
		}
	}
	return ""
}

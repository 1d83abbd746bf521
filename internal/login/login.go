// Package login runs the interactive authorization code flow for native
// apps (RFC 8252): a loopback listener, PKCE S256, state and nonce, the
// system browser, the code exchange and ID token verification.
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

	"golang.org/x/oauth2"

	"github.com/sesame-cli/sesame/internal/browser"
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
	// Interactive (stderr is a terminal) adds a waiting line; scripts and
	// logs get only the URL and the outcome.
	Interactive bool
	// Trace, when set, is told how long each step took: "browser" (until
	// the browser was launched), "callback" (until the provider redirected
	// back), "exchange" and "verification". It may be called concurrently.
	Trace func(step string, d time.Duration)
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
	req := request{
		authURL: o.Endpoints.Auth, clientID: o.ClientID,
		scopes: o.Scopes, resources: o.Resources, params: o.Params,
		state: randomToken(32), verifier: oauth2.GenerateVerifier(),
	}
	oidc := slices.Contains(o.Scopes, "openid")
	if oidc {
		req.nonce = randomToken(32)
	}
	srv, err := loopback.Listen(loopback.Options{
		Port: o.Port, State: req.state,
		Issuer: o.Endpoints.Issuer, RequireIss: o.Endpoints.IssParameter,
		Warn: func(msg string) { fmt.Fprintf(o.Stderr, "warning: %s\n", msg) },
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
	// The browser, and the user with --no-browser, get the listener's
	// one-time start URL: the authorization URL itself would sit in the
	// browser launcher's command line, readable by every local user.
	startURL, err := srv.Start(authURL)
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

	fmt.Fprintf(o.Stderr, "Open this URL in a browser to sign in:\n\n  %s\n\n", startURL)
	started := time.Now()
	if !o.NoBrowser {
		// pkg/browser waits for the launcher; never let it hold up the wait.
		go func() {
			if err := o.Browser.Open(startURL); err != nil {
				fmt.Fprintf(o.Stderr, "Could not open a browser (%v); open the URL above yourself.\n", err)
				return
			}
			o.trace("browser", started)
		}()
	}
	if o.Interactive {
		fmt.Fprintf(o.Stderr, "Waiting for the sign-in to finish (up to %s)...\n", o.Timeout)
	}

	waitCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	resp, err := srv.Wait(waitCtx)
	if err != nil {
		if stopped := srv.Err(); stopped != nil {
			return nil, stopped
		}
		return nil, waitError(err, o.Timeout, srv.Refused())
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
	got, err := grant.Client{ClientID: o.ClientID, TokenURL: tokenURL, HTTP: o.HTTP, Now: o.Now}.Exchange(ctx, code, req.verifier, req.redirectURI)
	if err != nil {
		return nil, explainExchangeError(err, o.TokenURL != "")
	}
	o.trace("exchange", start)
	return keep(ctx, o, got, req.nonce)
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

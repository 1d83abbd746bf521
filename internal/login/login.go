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

	fmt.Fprintf(o.Stderr, "Open this URL in a browser to sign in:\n\n  %s\n\n", authURL)
	if !o.NoBrowser {
		// pkg/browser waits for the launcher; never let it hold up the wait.
		go func() {
			if err := o.Browser.Open(authURL); err != nil {
				fmt.Fprintf(o.Stderr, "Could not open a browser (%v); open the URL above yourself.\n", err)
			}
		}()
	}
	fmt.Fprintf(o.Stderr, "Waiting for the sign-in to finish (up to %s)...\n", o.Timeout)

	waitCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	resp, err := srv.Wait(waitCtx)
	if err != nil {
		return nil, waitError(err, o.Timeout, srv.Refused())
	}
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
	got, err := grant.Client{ClientID: o.ClientID, TokenURL: tokenURL, HTTP: o.HTTP, Now: o.Now}.Exchange(ctx, code, req.verifier, req.redirectURI)
	if err != nil {
		return nil, explainExchangeError(err, o.TokenURL != "")
	}
	t := &session.Tokens{
		ClientID: o.ClientID, Endpoints: o.Endpoints,
		AccessToken: got.AccessToken, TokenType: got.TokenType, RefreshToken: got.RefreshToken,
		Expiry: got.Expiry, Scope: got.Scope, IDToken: got.IDToken, ObtainedAt: o.Now().UTC(),
	}
	if t.Scope == "" { // RFC 6749 §5.1: omitted means as requested
		t.Scope = strings.Join(o.Scopes, " ")
	}
	if req.nonce != "" && o.Endpoints.IsOIDC() {
		if got.IDToken == "" {
			return nil, errors.New("the provider returned no ID token although the openid scope was requested")
		}
		id, err := provider.VerifyIDToken(ctx, o.HTTP, o.Endpoints, o.ClientID, got.IDToken, req.nonce, o.Now)
		if err != nil {
			return nil, err
		}
		t.Identity = id
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

func waitError(err error, timeout time.Duration, refused int) error {
	if errors.Is(err, context.DeadlineExceeded) {
		msg := fmt.Sprintf("timed out after %s waiting for the sign-in to finish in the browser", timeout)
		if refused > 0 {
			msg += fmt.Sprintf(" (%d response(s) with a wrong state were refused)", refused)
		}
		return errors.New(msg + "; run the login again, with --timeout to wait longer")
	}
	return fmt.Errorf("login cancelled: %w", err)
}

// explainExchangeError adds what to do next to a refused code exchange.
func explainExchangeError(err error, viaBroker bool) error {
	var ge *grant.Error
	if !errors.As(err, &ge) {
		return err
	}
	switch {
	case ge.Code == "invalid_client" && !viaBroker:
		return fmt.Errorf("%w\nthe provider wants this client to authenticate: it is a confidential client, so log in through a sesame-broker that holds its secret (--broker URL)", err)
	case ge.Code == "invalid_client":
		return fmt.Errorf("%w\nthe broker's client credentials were refused: check the broker's client id and secret", err)
	case ge.Code == "invalid_grant" && strings.Contains(strings.ToLower(ge.Description), "redirect"):
		return fmt.Errorf("%w\nthe provider matches redirect URIs exactly: register this one or pin a port with --port", err)
	}
	return err
}

// explainAuthError adds what to do next to the provider's error code.
func explainAuthError(e *loopback.AuthError) error {
	hint := ""
	switch e.Code {
	case "access_denied":
		hint = "the sign-in was denied or cancelled; run the login again to retry"
	case "invalid_request", "unauthorized_client":
		if strings.Contains(strings.ToLower(e.Description), "redirect") {
			hint = "register http://127.0.0.1/callback (any port) as a redirect URI of this client at the provider, or pin one with --port"
		} else {
			hint = "check the client id and that this client may use the authorization code flow with PKCE"
		}
	case "invalid_scope":
		hint = "check the scopes (--scope) this client may request"
	case "invalid_target":
		hint = "check the --resource values this client may request"
	case "issuer_mismatch":
		hint = "the response did not come from the configured provider; the login was stopped"
	}
	if hint == "" {
		return fmt.Errorf("login failed: %w", e)
	}
	return fmt.Errorf("login failed: %w\n%s", e, hint)
}

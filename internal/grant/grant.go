// Package grant performs OAuth 2.0 grants at a token endpoint (RFC 6749 §4.1.3,
// §6) with golang.org/x/oauth2, and turns what comes back, including the
// many ways providers fail, into plain Tokens or a descriptive *Error.
package grant

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-cli/sesame/internal/dpop"
	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/term"
)

// Client talks to one token endpoint as one public client. TokenURL is the
// provider's token endpoint, or sesame-broker's, which adds the client's
// credentials on the way.
type Client struct {
	ClientID string
	TokenURL string
	// HTTP makes the requests. Every call uses a copy that follows no
	// redirect and bounds what it reads (httpx.NoRedirects): each request
	// carries a code, a token or a device code.
	HTTP *http.Client
	// Now dates expires_in; the caller's clock, so that expiry checks and
	// expiry times agree.
	Now func() time.Time
	// BasicID puts the client_id in an HTTP Basic header with an empty
	// password instead of the form, in revocation and introspection
	// requests: client_secret_basic for a client that has no secret, which
	// some providers want before they revoke a public client's token.
	BasicID bool
	// DPoP, when set, sender-constrains the tokens (RFC 9449): every
	// token request carries a proof made with this key, nonce challenges
	// are answered (§8), and an answer that is not token_type DPoP is
	// refused rather than kept as a bearer token.
	DPoP *dpop.Key
	// DPoPURL is the URL the proofs name (htu): the provider's token
	// endpoint, also when TokenURL is sesame-broker's, which forwards the
	// proof unchanged. Empty means TokenURL.
	DPoPURL string
	// Server names who answers token requests in messages: "" for the
	// provider, "sesame-broker" in session mode, where the broker is the
	// authority and its answers are its own.
	Server string
}

// Tokens is a successful token response (RFC 6749 §5.1).
type Tokens struct {
	AccessToken  string
	TokenType    string
	RefreshToken string // the new one on rotation, else the one presented
	IDToken      string
	Scope        string // empty when the provider did not say
	Expiry       time.Time
}

// Error is a refused or failed token request. Code is the RFC 6749 §5.2
// error code when the provider sent one.
type Error struct {
	Op          string // "exchange the authorization code", "refresh the tokens"
	Code        string
	Description string
	Status      int
	Err         error  // transport or parse failure, when there is no Code
	Server      string // who answered, when not the provider (Client.Server)
}

func (e *Error) Error() string {
	switch {
	case e.Code != "":
		// Code and Description are the provider's words: one inert line.
		who := "the provider"
		if e.Server != "" {
			who = e.Server
		}
		msg := fmt.Sprintf("%s: %s answered %s", e.Op, who, term.Clean(e.Code))
		if e.Description != "" {
			msg += " (" + term.Clean(e.Description) + ")"
		}
		return msg
	default:
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// NotBoundError is a token response to a DPoP-proofed request that is not
// a DPoP-bound token (RFC 9449 §5).
type NotBoundError struct{ TokenType string }

func (e *NotBoundError) Error() string {
	tt := term.Clean(e.TokenType)
	if tt == "" {
		tt = "no token_type"
	} else if len(tt) > 40 {
		tt = tt[:40] + "…"
	}
	return fmt.Sprintf("the provider answered with a %s token, not a DPoP-bound one (token_type DPoP): it does not bind tokens to a key for this client; nothing was kept. Enable DPoP for the client at the provider, or use the profile without dpop", tt)
}

// IsInvalidGrant reports whether the provider refused the grant itself
// (expired, revoked or reused refresh token): only a new login helps.
func IsInvalidGrant(err error) bool {
	var ge *Error
	return errors.As(err, &ge) && ge.Code == "invalid_grant"
}

func (c Client) config(redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:    c.ClientID,
		RedirectURL: redirectURI,
		// A public client authenticates with client_id in the body only
		// (RFC 6749 §3.2.1); this also stops x/oauth2 probing Basic auth.
		Endpoint: oauth2.Endpoint{TokenURL: c.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
}

// ctx hands x/oauth2 the client it must use: without one it would take
// http.DefaultClient, which follows redirects.
func (c Client) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.client())
}

// client is the HTTP client for token requests: no redirects, bounded
// bodies, and a DPoP proof on each request when the tokens are bound.
func (c Client) client() *http.Client {
	hc := httpx.NoRedirects(c.HTTP)
	if c.DPoP == nil {
		return hc
	}
	htu := c.DPoPURL
	if htu == "" {
		htu = c.TokenURL
	}
	hc.Transport = &dpop.Transport{Base: hc.Transport, Key: c.DPoP,
		HTU: func(*http.Request) (string, error) { return dpop.HTU(htu) }}
	return hc
}

// checkURL applies the one endpoint policy before anything is sent, also
// to endpoints stored at an earlier login.
func checkURL(op, what, u string) error {
	if err := httpx.CheckEndpoint(u); err != nil {
		return &Error{Op: op, Err: fmt.Errorf("the %s endpoint %w", what, err)}
	}
	return nil
}

// Exchange redeems an authorization code with its PKCE verifier. extra
// adds parameters: sesame-broker's session mode takes the upstream's name
// and the login's nonce with the code.
func (c Client) Exchange(ctx context.Context, code, verifier, redirectURI string, extra url.Values) (*Tokens, error) {
	const op = "exchange the authorization code"
	if err := checkURL(op, "token", c.TokenURL); err != nil {
		return nil, err
	}
	tok, err := c.config(redirectURI).Exchange(c.withExtra(ctx, extra), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, c.named(describe(op, "token", c.TokenURL, err))
	}
	return c.tokens(op, tok)
}

// Refresh uses a refresh token (RFC 6749 §6). extra adds parameters to the
// request: resource (RFC 8707) or Logto's organization_id, which x/oauth2's
// refresh has no option for.
func (c Client) Refresh(ctx context.Context, refreshToken string, extra url.Values) (*Tokens, error) {
	const op = "refresh the tokens"
	if err := checkURL(op, "token", c.TokenURL); err != nil {
		return nil, err
	}
	src := c.config("").TokenSource(c.withExtra(ctx, extra), &oauth2.Token{RefreshToken: refreshToken})
	tok, err := src.Token()
	if err != nil {
		return nil, c.named(describe(op, "token", c.TokenURL, err))
	}
	return c.tokens(op, tok)
}

// maxLifetime is far beyond any access token lifetime a provider gives; a
// larger expires_in is a broken or hostile response.
const maxLifetime = 10 * 365 * 24 * time.Hour

// checkExpiresIn refuses an expires_in that is negative or absurd (RFC 6749
// §5.1 makes it a lifetime in seconds); an absent one means "not said".
func checkExpiresIn(tok *oauth2.Token) error {
	if tok.ExpiresIn < 0 || time.Duration(tok.ExpiresIn) > maxLifetime/time.Second {
		return fmt.Errorf("unusable response from the token endpoint: expires_in is %d seconds", tok.ExpiresIn)
	}
	return nil
}

// tokens turns a successful response into Tokens, refusing one whose
// expires_in or tokens are unusable.
func (c Client) tokens(op string, tok *oauth2.Token) (*Tokens, error) {
	if err := checkExpiresIn(tok); err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	t := c.fromOAuth2(tok)
	if err := checkCharset(t); err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	if c.DPoP != nil && !strings.EqualFold(t.TokenType, "DPoP") {
		// RFC 9449 §5: a bearer answer to a proof means the provider does
		// not bind tokens for this client; keeping it would silently give
		// up what was asked for.
		return nil, &Error{Op: op, Err: &NotBoundError{TokenType: t.TokenType}}
	}
	return t, nil
}

func (c Client) fromOAuth2(tok *oauth2.Token) *Tokens {
	t := &Tokens{
		AccessToken:  tok.AccessToken,
		TokenType:    tok.TokenType,
		RefreshToken: tok.RefreshToken,
		Expiry:       tok.Expiry,
	}
	if tok.ExpiresIn > 0 && c.Now != nil {
		t.Expiry = c.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	t.IDToken, _ = tok.Extra("id_token").(string)
	t.Scope, _ = tok.Extra("scope").(string)
	return t
}

// named marks err as answered by c.Server.
func (c Client) named(err error) error {
	var ge *Error
	if c.Server != "" && errors.As(err, &ge) {
		ge.Server = c.Server
	}
	return err
}

// describe never includes the response body: it may echo what we sent.
// what names the endpoint: "token", "device authorization". A refused
// redirect has no Code, so it is never taken for invalid_grant: the login
// stays, and the next try may well work.
func describe(op, what, endpoint string, err error) error {
	var rd *httpx.RedirectError
	if errors.As(err, &rd) {
		return &Error{Op: op, Err: rd.Named("the " + what + " endpoint")}
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e := &Error{Op: op, Code: re.ErrorCode, Description: re.ErrorDescription}
		if re.Response != nil {
			e.Status = re.Response.StatusCode
			if e.Code == "" {
				e.Err = fmt.Errorf("the %s endpoint answered HTTP %d (%s) without an OAuth error", what, e.Status, contentType(re.Response))
			}
		}
		return e
	}
	if ur := httpx.Unreachable(err, "the "+what+" endpoint"); ur != nil {
		return &Error{Op: op, Err: ur} // the URL once, the cause, a hint
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &Error{Op: op, Err: fmt.Errorf("could not reach the %s endpoint %s: %w", what, endpoint, ue.Err)}
	}
	if errors.Is(err, context.Canceled) {
		// Interrupted (Ctrl-C), between requests too: x/oauth2's device
		// polling returns the context's error as is. It stays visible, so
		// that the command exits 130.
		return &Error{Op: op, Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Op: op, Err: fmt.Errorf("the %s endpoint %s did not answer in time", what, endpoint)}
	}
	msg := strings.TrimPrefix(err.Error(), "oauth2: ")
	return &Error{Op: op, Err: fmt.Errorf("unusable response from the %s endpoint: %s", what, msg)}
}

func contentType(r *http.Response) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt == "" {
		return "no content type"
	}
	return mt
}

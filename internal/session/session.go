package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/store"
)

// LoginRequiredError means only `sesame login` can help: nothing is
// stored, or the provider no longer honours what is.
type LoginRequiredError struct {
	Profile string
	Reason  string
}

func (e *LoginRequiredError) Error() string {
	return fmt.Sprintf("%s; run `%s`", e.Reason, LoginCommand(e.Profile))
}

// LoginCommand is the command that logs in to profile.
func LoginCommand(profile string) string {
	if profile == "" || profile == "default" {
		return "sesame login"
	}
	return "sesame login --profile " + profile
}

// Session is one profile's stored login.
type Session struct {
	Profile string
	Store   store.Store
	HTTP    *http.Client
	Now     func() time.Time
	// TokenURL, when set, replaces the stored token endpoint for refreshes
	// (a broker that adds client authentication).
	TokenURL string
	// Issuer and ClientID, when set, are what the profile says now; tokens
	// from another provider or client are not handed out for it.
	Issuer, ClientID string
}

// Key is the store key of a profile's token set.
func Key(profile string) string { return profile }

func (s *Session) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Load reads the stored tokens.
func (s *Session) Load() (*Tokens, error) {
	b, err := s.Store.Get(Key(s.Profile))
	if errors.Is(err, store.ErrNotFound) {
		return nil, &LoginRequiredError{Profile: s.Profile, Reason: fmt.Sprintf("not logged in (profile %q)", s.Profile)}
	}
	if err != nil {
		return nil, fmt.Errorf("read stored tokens: %w", err)
	}
	t, err := decode(b)
	if err != nil {
		return nil, &LoginRequiredError{Profile: s.Profile, Reason: fmt.Sprintf("the stored tokens for profile %q cannot be used (%v)", s.Profile, err)}
	}
	if s.Issuer != "" && t.Endpoints.Issuer != s.Issuer || s.ClientID != "" && t.ClientID != s.ClientID {
		return nil, &LoginRequiredError{Profile: s.Profile, Reason: fmt.Sprintf("profile %q now names another issuer or client than the stored login (%s, %s)", s.Profile, t.Endpoints.Issuer, t.ClientID)}
	}
	return t, nil
}

// Save stores t whole, replacing what was there.
func (s *Session) Save(t *Tokens) error {
	t.UpdatedAt = s.now().UTC()
	b, err := t.encode()
	if err != nil {
		return fmt.Errorf("encode tokens: %w", err)
	}
	if err := s.Store.Set(Key(s.Profile), b); err != nil {
		return fmt.Errorf("store tokens: %w", err)
	}
	return nil
}

// Delete removes the stored tokens; it is not an error if there were none.
func (s *Session) Delete() error {
	if err := s.Store.Delete(Key(s.Profile)); err != nil {
		return fmt.Errorf("remove stored tokens: %w", err)
	}
	return nil
}

// Fresh returns tokens whose access token is valid for at least minTTL,
// refreshing them first when needed (or always, with force).
func (s *Session) Fresh(ctx context.Context, minTTL time.Duration, force bool) (*Tokens, error) {
	t, err := s.Load()
	if err != nil {
		return nil, err
	}
	if !force && !t.ExpiresWithin(s.now(), minTTL) {
		return t, nil
	}
	return s.refresh(ctx, t)
}

func (s *Session) refresh(ctx context.Context, t *Tokens) (*Tokens, error) {
	if t.RefreshToken == "" {
		return nil, &LoginRequiredError{Profile: s.Profile, Reason: "the access token has expired and there is no refresh token (did the login ask for offline_access?)"}
	}
	tokenURL := t.Endpoints.Token
	if s.TokenURL != "" {
		tokenURL = s.TokenURL
	}
	c := grant.Client{ClientID: t.ClientID, TokenURL: tokenURL, HTTP: s.HTTP}
	got, err := c.Refresh(ctx, t.RefreshToken)
	if grant.IsInvalidGrant(err) {
		return nil, &LoginRequiredError{Profile: s.Profile, Reason: "the provider no longer accepts the refresh token (" + err.Error() + ")"}
	}
	if err != nil {
		return nil, err
	}
	next := *t
	next.AccessToken, next.TokenType, next.Expiry = got.AccessToken, got.TokenType, got.Expiry
	next.RefreshToken = got.RefreshToken // x/oauth2 keeps the old one when none is returned
	if got.Scope != "" {
		next.Scope = got.Scope
	}
	// Providers need not return an ID token on refresh (OpenID Connect Core
	// §12.2); keep the old one then, and verify a new one before using it.
	if got.IDToken != "" && t.Endpoints.IsOIDC() {
		id, err := provider.VerifyIDToken(ctx, s.HTTP, t.Endpoints, t.ClientID, got.IDToken, "", s.Now)
		if err != nil {
			return nil, fmt.Errorf("refresh the tokens: %w", err)
		}
		if t.Identity != nil && id.Subject != t.Identity.Subject {
			return nil, fmt.Errorf("refresh the tokens: the new ID token is for another subject (%q, was %q)", id.Subject, t.Identity.Subject)
		}
		next.IDToken, next.Identity = got.IDToken, id
	}
	if err := s.Save(&next); err != nil {
		// With rotation the old refresh token is spent now; say so.
		return nil, &LoginRequiredError{Profile: s.Profile, Reason: fmt.Sprintf("the tokens were refreshed but could not be stored (%v)", err)}
	}
	return &next, nil
}

package session

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/httpx"
)

// ErrNoRevocationEndpoint means the provider offers no way to revoke.
var ErrNoRevocationEndpoint = errors.New("the provider has no revocation endpoint (RFC 7009)")

// Revoke revokes the login at the provider (RFC 7009) and then removes it
// here. Revoking the refresh token ends the grant, and with it every
// resource and organization token. With accessOnly, only the access token
// is revoked and the next use refreshes it. When the provider cannot be
// reached or refuses, nothing local changes.
func (s *Session) Revoke(ctx context.Context, accessOnly bool) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	t, err := s.Load()
	if err != nil {
		return err
	}
	token, hint := t.RefreshToken, "refresh_token"
	if accessOnly || token == "" {
		token, hint = t.AccessToken, "access_token"
	}
	if err := s.revoke(ctx, t, token, hint); err != nil {
		return err
	}
	if hint == "access_token" && t.RefreshToken != "" {
		next := *t
		next.Expiry = time.Unix(1, 0) // revoked: refresh on next use
		return s.save(&next)
	}
	return s.remove()
}

// Logout removes the login, first revoking it at the provider unless
// revoke is false. A provider without a revocation endpoint is reported
// through Warn and the local tokens go anyway; a failed revocation keeps
// them, so that the user can retry or choose not to revoke.
func (s *Session) Logout(ctx context.Context, revoke bool) (*Tokens, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	t, err := s.Load()
	var lr *LoginRequiredError
	if errors.As(err, &lr) {
		return nil, s.remove() // nothing usable: clear whatever is there
	}
	if err != nil {
		return nil, err
	}
	if revoke {
		token, hint := t.RefreshToken, "refresh_token"
		if token == "" {
			token, hint = t.AccessToken, "access_token"
		}
		err := s.revoke(ctx, t, token, hint)
		switch {
		case errors.Is(err, ErrNoRevocationEndpoint):
			s.warn("the provider has no revocation endpoint: the grant stays valid there until it expires")
		case err != nil:
			return nil, err
		}
	}
	return t, s.remove()
}

func (s *Session) revoke(ctx context.Context, t *Tokens, token, hint string) error {
	endpoint := t.Endpoints.Revocation
	if s.RevocationURL != "" {
		endpoint = s.RevocationURL
	}
	if endpoint == "" {
		return ErrNoRevocationEndpoint
	}
	return grant.Client{ClientID: t.ClientID, HTTP: s.HTTP}.Revoke(ctx, endpoint, token, hint)
}

// EndSessionURL is where the browser signs out of the provider's session
// (OpenID Connect RP-Initiated Logout §2), for the login t was.
// client_id rather than id_token_hint: the URL reaches the browser's
// command line, where every local user could read a token.
func EndSessionURL(t *Tokens) (string, error) {
	if t == nil || t.Endpoints.EndSession == "" {
		return "", errors.New("the provider has no end_session_endpoint; sign out of it in the browser yourself")
	}
	// It goes to the browser: the one URL policy applies, as to every endpoint.
	if err := httpx.CheckEndpoint(t.Endpoints.EndSession); err != nil {
		return "", fmt.Errorf("the end_session_endpoint %w", err)
	}
	u, err := url.Parse(t.Endpoints.EndSession)
	if err != nil {
		return "", fmt.Errorf("end_session_endpoint: %w", err)
	}
	q := u.Query()
	q.Set("client_id", t.ClientID)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

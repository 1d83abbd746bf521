package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/httpx"
)

// ErrNoRevocationEndpoint means the provider offers no way to revoke.
var ErrNoRevocationEndpoint = errors.New("the provider has no revocation endpoint (RFC 7009)")

// Revoke revokes the login at the provider (RFC 7009) and then removes it
// here. Revoking the refresh token ends the grant, and with it every
// resource and organization token. With accessOnly, only the access token
// is revoked and the next use tries a refresh, which fails with a login
// to renew where the provider ended the whole grant with it (RFC 7009
// §2.1 allows that). When the provider cannot be reached or refuses,
// nothing local changes.
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

// NotRevokedError means that logout removed the tokens here but the
// provider did not revoke the grant: it may stay active there until it
// expires.
type NotRevokedError struct{ Err error }

func (e *NotRevokedError) Error() string {
	return fmt.Sprintf("the provider did not revoke the grant (%v); it may stay active there until it expires", e.Err)
}

func (e *NotRevokedError) Unwrap() error { return e.Err }

// Logout removes the login, first revoking it at the provider unless
// revoke is false. The local tokens always go: a provider without a
// revocation endpoint is reported through Warn, one that cannot be reached
// or refuses through a *NotRevokedError returned after the removal. Only an
// interrupt (ctx cancelled) or a failure to take the lock leaves them. A
// login the provider has already ended, or that cannot be used at all, is
// removed without a request.
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
	var notRevoked error
	if revoke {
		token, hint := t.RefreshToken, "refresh_token"
		if token == "" {
			token, hint = t.AccessToken, "access_token"
		}
		err := s.revoke(ctx, t, token, hint)
		switch {
		case errors.Is(err, ErrNoRevocationEndpoint):
			s.warn("the provider has no revocation endpoint: the grant stays valid there until it expires")
		case err != nil && ctx.Err() != nil:
			return nil, err // interrupted: nothing changed
		case err != nil:
			notRevoked = &NotRevokedError{Err: err}
		}
	}
	if err := s.remove(); err != nil {
		return nil, err
	}
	if notRevoked != nil {
		return t, notRevoked
	}
	return t, nil
}

// revoke asks the provider to revoke token (RFC 7009), with client_id in
// the form as a public client ("none"). A refusal of the client (401, or
// invalid_client) is tried once more with the client_id in HTTP Basic
// when the provider lists client_secret_basic among its
// revocation_endpoint_auth_methods_supported, or lists nothing (RFC 8414
// §2 makes it the default). Through a broker, which authenticates the
// client itself, the first answer stands.
func (s *Session) revoke(ctx context.Context, t *Tokens, token, hint string) error {
	endpoint := t.Endpoints.Revocation
	if s.RevocationURL != "" {
		endpoint = s.RevocationURL
	}
	if endpoint == "" {
		return ErrNoRevocationEndpoint
	}
	c := grant.Client{ClientID: t.ClientID, HTTP: s.HTTP}
	err := c.Revoke(ctx, endpoint, token, hint)
	if !clientRefused(err) || s.RevocationURL != "" {
		return err
	}
	switch methods := t.Endpoints.RevocationAuth; {
	case len(methods) == 0 || slices.Contains(methods, "client_secret_basic"):
	case slices.Contains(methods, "none") || slices.Contains(methods, "client_secret_post"):
		return err // sent as the provider asks: the refusal stands
	default:
		return fmt.Errorf("%w; its revocation endpoint takes only %s, which needs a client credential (a sesame-broker has one)", err, strings.Join(methods, ", "))
	}
	c.BasicID = true
	if err2 := c.Revoke(ctx, endpoint, token, hint); err2 != nil {
		return err // the first answer is the one that names the usual cause
	}
	return nil
}

// clientRefused reports a refusal of the client rather than of the token:
// RFC 6749 §5.2's invalid_client, or HTTP 401.
func clientRefused(err error) bool {
	var ge *grant.Error
	return errors.As(err, &ge) && (ge.Code == "invalid_client" || ge.Status == http.StatusUnauthorized)
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

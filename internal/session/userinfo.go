package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/provider"
)

// UserinfoResponse is the provider's answer about the logged-in user:
// JSON, or, when Signed, a JWT (OpenID Connect Core §5.3.2).
type UserinfoResponse struct {
	Body   []byte
	Signed bool
}

// Userinfo asks the provider's userinfo endpoint about the user, with an
// access token valid for now. A token the provider refuses (401, or 403
// with error="invalid_token": it may have been revoked or expired early)
// is refreshed once and the call made once more.
func (s *Session) Userinfo(ctx context.Context) (*UserinfoResponse, error) {
	t, err := s.Fresh(ctx, 0, false)
	if err != nil {
		return nil, err
	}
	endpoint := t.Endpoints.Userinfo
	if endpoint == "" {
		return nil, fmt.Errorf("profile %q has no userinfo endpoint (set userinfo_url for a provider without discovery)", s.Profile)
	}
	call := func(t *Tokens) (*provider.UserinfoResponse, error) {
		hc, err := s.HTTPFor(t)
		if err != nil {
			return nil, err
		}
		return provider.UserinfoAs(ctx, hc, endpoint, AuthScheme(t.TokenType), t.AccessToken)
	}
	resp, err := call(t)
	if err == nil && tokenRefused(resp.Status, resp.Challenge) {
		if t, err = s.Fresh(ctx, 0, true); err != nil {
			return nil, err
		}
		resp, err = call(t)
	}
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("the userinfo endpoint answered HTTP %d", resp.Status)
	}
	if mt, _, _ := mime.ParseMediaType(resp.ContentType); mt == "application/jwt" {
		// Printed as is, so it must be what a JWT can be: visible ASCII.
		jwt := bytes.TrimSpace(resp.Body)
		if err := grant.CheckTokenChars("signed userinfo response", string(jwt)); err != nil {
			return nil, fmt.Errorf("unusable userinfo response: %w", err)
		}
		return &UserinfoResponse{Body: jwt, Signed: true}, nil
	}
	return &UserinfoResponse{Body: resp.Body}, nil
}

// tokenRefused reports a resource server's refusal of the token itself
// (RFC 6750 §3.1): 401, or 403 whose challenge says invalid_token.
func tokenRefused(status int, challenge string) bool {
	return status == http.StatusUnauthorized ||
		status == http.StatusForbidden && strings.Contains(challenge, `error="invalid_token"`)
}

// ErrNoIntrospectionEndpoint: the provider offers no RFC 7662 endpoint.
var ErrNoIntrospectionEndpoint = errors.New("the provider has no introspection endpoint (RFC 7662); set introspection_url in the profile if it has one")

// Introspect asks the provider about token (RFC 7662): through the broker
// when there is one (it adds client authentication), else at the
// introspection endpoint of ep (the endpoints stored with the token), or,
// for a token given by the user with no login, of the profile's provider.
func (s *Session) Introspect(ctx context.Context, token, hint, clientID string, ep Endpoints) (map[string]any, error) {
	endpoint := s.IntrospectionURL
	if endpoint == "" {
		if ep.Introspection == "" && ep.Token == "" {
			resolved, err := provider.Resolve(ctx, s.HTTP, s.Overrides)
			if err != nil {
				return nil, fmt.Errorf("find the introspection endpoint: %w", err)
			}
			ep = resolved
		}
		if endpoint = ep.Introspection; endpoint == "" {
			return nil, ErrNoIntrospectionEndpoint
		}
	}
	if clientID == "" {
		clientID = s.ClientID
	}
	return grant.Client{ClientID: clientID, HTTP: s.HTTP}.Introspect(ctx, endpoint, token, hint)
}

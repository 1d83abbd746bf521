package session

import (
	"context"
	"errors"
)

// How Check asked the provider.
const (
	CheckedByRefresh       = "refresh"
	CheckedByUserinfo      = "userinfo"
	CheckedByIntrospection = "introspection"
)

// ErrCannotCheck: the provider offers nothing to ask about the login.
var ErrCannotCheck = errors.New("the provider has no userinfo or introspection endpoint and the login has no refresh token: nothing can tell whether it is still good")

// Check asks the provider whether the login is still good, as `gh auth
// status` does, and returns how it asked: a refresh when the access token
// has expired (which proves the grant itself), else the userinfo endpoint
// (a refused token is refreshed once, as Userinfo does), else
// introspection (RFC 7662) of the refresh token or, without one, the
// access token, else a refresh. A dead grant is a *LoginRequiredError, and
// a refresh token the provider refused is recorded as the end of the
// login; anything else that stops the check (the network, an endpoint that
// answers nonsense) is another error.
//
// An inactive refresh token in an introspection answer is confirmed by a
// refresh before the login is called ended: providers may also answer
// "active": false to a client they do not let introspect (RFC 7662 §2.2).
func (s *Session) Check(ctx context.Context) (string, error) {
	t, err := s.Load()
	if err != nil {
		return "", err
	}
	switch {
	case t.ExpiresWithin(s.now(), 0):
		if _, err := s.Fresh(ctx, 0, false); err != nil {
			return "", err
		}
		return CheckedByRefresh, nil
	case t.Endpoints.Userinfo != "":
		if _, err := s.Userinfo(ctx); err != nil {
			return "", err
		}
		return CheckedByUserinfo, nil
	case t.Endpoints.Introspection != "" || s.IntrospectionURL != "":
		token, hint := t.RefreshToken, "refresh_token"
		if token == "" {
			token, hint = t.AccessToken, "access_token"
		}
		resp, err := s.Introspect(ctx, token, hint, t.ClientID, t.Endpoints)
		if err != nil {
			return "", err
		}
		if active, _ := resp["active"].(bool); active {
			return CheckedByIntrospection, nil
		}
		if t.RefreshToken == "" {
			return "", &LoginRequiredError{Profile: s.Profile, Reason: "the provider says the access token is no longer active, and there is no refresh token"}
		}
		if _, err := s.Fresh(ctx, 0, true); err != nil {
			return "", err
		}
		return CheckedByRefresh, nil
	case t.RefreshToken != "":
		if _, err := s.Fresh(ctx, 0, true); err != nil {
			return "", err
		}
		return CheckedByRefresh, nil
	}
	return "", ErrCannotCheck
}

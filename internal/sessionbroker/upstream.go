package sessionbroker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-cli/sesame/internal/term"
)

// revokeTimeout bounds the best-effort revocation of an upstream refresh
// token, which goes on when the caller hangs up.
const revokeTimeout = 10 * time.Second

// config is the upstream's confidential client for x/oauth2.
func (u *upstream) config(redirectURI string) *oauth2.Config {
	style := oauth2.AuthStyleInHeader
	if u.AuthMethod == authPost {
		style = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID: u.ClientID, ClientSecret: u.ClientSecret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{TokenURL: u.ep.Token, AuthStyle: style},
	}
}

// withClient hands x/oauth2 the handler's client, which follows no
// redirect and bounds what it reads; x/oauth2 would otherwise take
// http.DefaultClient.
func (h *Handler) withClient(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, h.http)
}

// exchange redeems a code at the upstream (RFC 6749 §4.1.3, RFC 7636
// §4.5), as its confidential client.
func (h *Handler) exchange(ctx context.Context, u *upstream, code, redirectURI, verifier string) (*oauth2.Token, error) {
	return u.config(redirectURI).Exchange(h.withClient(ctx), code, oauth2.VerifierOption(verifier))
}

// refresh uses the upstream refresh token (RFC 6749 §6). When the upstream
// does not rotate it, the answer carries the one sent.
func (h *Handler) refresh(ctx context.Context, u *upstream, refreshToken string) (*oauth2.Token, error) {
	return u.config("").TokenSource(h.withClient(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
}

// upstreamError is the answer to a failed upstream call: invalid_grant,
// described by refused, when the upstream refused the code or refresh
// token; otherwise 502 with the broker's own words. The upstream's body is
// neither forwarded nor logged: it may repeat what it was sent.
func (h *Handler) upstreamError(ctx context.Context, u *upstream, op string, err error, refused string) *apiError {
	attrs := []any{"provider", u.Name, "op", op}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil {
			attrs = append(attrs, "status", re.Response.StatusCode)
		}
		attrs = append(attrs, "upstream_error", clip(re.ErrorCode))
		if re.ErrorCode == "invalid_grant" {
			h.log.InfoContext(ctx, "the provider refused the grant", attrs...)
			return invalidGrant(refused)
		}
	} else {
		attrs = append(attrs, "cause", clip(err.Error()))
	}
	h.log.WarnContext(ctx, "the provider failed", attrs...)
	return badGateway(fmt.Sprintf("the provider %s could not be reached or gave an unusable answer; try again later", u.Name))
}

// idTokenOf is the ID token of an upstream token response, "" for none.
func idTokenOf(t *oauth2.Token) string {
	s, _ := t.Extra("id_token").(string)
	return s
}

// scopeOf is the scope the upstream granted, "" when it did not say.
func scopeOf(t *oauth2.Token) string {
	s, _ := t.Extra("scope").(string)
	return s
}

// authTimeOf reads auth_time from an ID token that has been verified:
// the payload is then the provider's. false when it is absent or not a
// positive number of seconds.
func authTimeOf(idToken string) (time.Time, bool) {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		AuthTime *float64 `json:"auth_time"`
	}
	if json.Unmarshal(b, &c) != nil || c.AuthTime == nil || *c.AuthTime <= 0 || *c.AuthTime > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(int64(*c.AuthTime), 0).UTC(), true
}

// revokeUpstream asks the upstream to revoke a refresh token (RFC 7009),
// best effort: the session is already revoked at the broker, and the
// outcome is only logged.
func (h *Handler) revokeUpstream(ctx context.Context, u *upstream, refreshToken string) {
	if u.ep.Revocation == "" || refreshToken == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeTimeout)
	defer cancel()
	form := url.Values{"token": {refreshToken}, "token_type_hint": {"refresh_token"}}
	if u.AuthMethod == authPost {
		form.Set("client_id", u.ClientID)
		form.Set("client_secret", u.ClientSecret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.ep.Revocation, strings.NewReader(form.Encode()))
	if err != nil {
		h.log.WarnContext(ctx, "could not revoke the provider's refresh token", "provider", u.Name, "cause", clip(err.Error()))
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if u.AuthMethod == authBasic { // RFC 6749 §2.3.1: each part form-encoded first
		req.SetBasicAuth(url.QueryEscape(u.ClientID), url.QueryEscape(u.ClientSecret))
	}
	resp, err := h.http.Do(req)
	if err != nil {
		h.log.WarnContext(ctx, "could not revoke the provider's refresh token", "provider", u.Name, "cause", clip(err.Error()))
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		h.log.WarnContext(ctx, "the provider did not revoke its refresh token", "provider", u.Name, "status", resp.StatusCode)
		return
	}
	h.log.InfoContext(ctx, "the provider's refresh token revoked", "provider", u.Name)
}

// clip makes text from elsewhere fit for a log line: printable, short.
func clip(s string) string {
	s = term.Clean(s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

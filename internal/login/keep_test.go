package login

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// TestKeepStoresNoUnverifiedIDToken: an ID token is stored only after
// sesame verified it; without the means to verify, the login fails before
// anything is stored, and an ID token nobody asked for is dropped.
func TestKeepStoresNoUnverifiedIDToken(t *testing.T) {
	idp := testidp.New(t, testidp.Options{})
	idt := idp.SignIDToken(idp.Claims())
	full := provider.Endpoints{Issuer: idp.Issuer, Auth: idp.Endpoint("/auth"), Token: idp.Endpoint("/token"), JWKS: idp.Endpoint("/jwks")}
	noJWKS := full
	noJWKS.JWKS = ""
	plain := provider.Endpoints{Auth: full.Auth, Token: full.Token}
	tests := []struct {
		name   string
		ep     provider.Endpoints
		scopes []string
		idt    string
		want   string // error; "" for success
		keepID bool
	}{
		{name: "verified", ep: full, scopes: []string{"openid"}, idt: idt, keepID: true},
		{name: "no jwks_uri", ep: noJWKS, scopes: []string{"openid", "profile"}, idt: idt, want: "no jwks_uri"},
		{name: "no issuer", ep: plain, scopes: []string{"openid"}, idt: idt, want: "no issuer"},
		{name: "openid without an ID token", ep: full, scopes: []string{"openid"}, want: "no ID token"},
		{name: "not asked for, with keys", ep: full, scopes: []string{"profile"}, idt: idt},
		{name: "not asked for, plain OAuth 2.0", ep: plain, scopes: []string{"read:user"}, idt: idt},
		{name: "plain OAuth 2.0 without an ID token", ep: plain, scopes: []string{"read:user"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			var saved []*session.Tokens
			o := Options{Endpoints: tt.ep, ClientID: idp.ClientID(), Scopes: tt.scopes, Stderr: &stderr, Now: time.Now,
				Save: func(t *session.Tokens) error { saved = append(saved, t); return nil }}
			got := &grant.Tokens{AccessToken: "at", TokenType: "Bearer", IDToken: tt.idt}
			toks, err := keep(context.Background(), o, got, "")
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) || len(saved) != 0 {
					t.Fatalf("err %v, saved %d", err, len(saved))
				}
				return
			}
			if err != nil || len(saved) != 1 {
				t.Fatalf("err %v, saved %d", err, len(saved))
			}
			if kept := toks.IDToken != ""; kept != tt.keepID || kept != (toks.Identity != nil) {
				t.Errorf("ID token kept: %v, identity %+v", kept, toks.Identity)
			}
			if warned := strings.Contains(stderr.String(), "not kept"); warned != (tt.idt != "" && !tt.keepID) {
				t.Errorf("warning: %q", stderr.String())
			}
		})
	}
}

// TestRunRefusesUnverifiableLoginBeforeTheBrowser: the openid check runs
// before the listener and the browser, so nothing is sent to the provider.
func TestRunRefusesUnverifiableLoginBeforeTheBrowser(t *testing.T) {
	idp := testidp.New(t, testidp.Options{})
	b := idp.Browser(testidp.Approve)
	var saved []*session.Tokens
	o := options(t, idp, b, &saved)
	o.Endpoints.JWKS = ""
	o.Endpoints.Device = idp.Endpoint("/device") // never reached
	for _, run := range []func(context.Context, Options) (*session.Tokens, error){Run, Device} {
		if _, err := run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "no jwks_uri") {
			t.Fatalf("err %v", err)
		}
	}
	if b.URL() != "" || idp.Grants("authorization_code") != 0 || len(saved) != 0 {
		t.Errorf("something was sent: browser %q, grants %d", b.URL(), idp.Grants("authorization_code"))
	}
}

package broker

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// TestWithCLIGrantClient runs the CLI's own token client against the broker
// in front of the strict test provider, with a confidential client: a code
// exchange, a refresh with rotation, introspection and revocation.
func TestWithCLIGrantClient(t *testing.T) {
	for _, method := range []string{AuthClientSecretBasic, AuthClientSecretPost} {
		t.Run(method, func(t *testing.T) {
			idp := testidp.New(t, testidp.Options{Path: "/oidc", ClientID: "sesame", ClientSecret: "top-secret"})
			cfg := Defaults()
			cfg.Listen = "127.0.0.1:0"
			cfg.Clients = []Client{{ID: "sesame", Issuer: idp.Issuer, Secret: "top-secret", AuthMethod: method}}
			srv, err := Start(t.Context(), cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)

			verifier := strings.Repeat("v", 20) + "-PKCE-verifier-0123456789abcdef"
			sum := sha256.Sum256([]byte(verifier))
			redirect := "http://127.0.0.1:49152/callback"
			q := url.Values{
				"client_id": {"sesame"}, "redirect_uri": {redirect}, "response_type": {"code"},
				"scope": {"openid offline_access"}, "state": {"st"}, "code_challenge_method": {"S256"},
				"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
			}
			back, err := idp.Authorize(idp.Endpoint("/auth")+"?"+q.Encode(), testidp.Approve)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(back)
			gc := grant.Client{ClientID: "sesame", TokenURL: srv.URL + "/token", HTTP: testHTTP}
			tok, err := gc.Exchange(t.Context(), u.Query().Get("code"), verifier, redirect, nil)
			if err != nil {
				t.Fatalf("exchange through the broker: %v", err)
			}
			if tok.AccessToken == "" || tok.RefreshToken == "" || tok.IDToken == "" {
				t.Fatalf("tokens: %+v", tok)
			}
			refreshed, err := gc.Refresh(t.Context(), tok.RefreshToken, nil)
			if err != nil || refreshed.RefreshToken == tok.RefreshToken {
				t.Fatalf("refresh through the broker: %+v, %v", refreshed, err)
			}
			form := url.Values{"client_id": {"sesame"}, "token": {refreshed.AccessToken}}
			resp, err := testHTTP.PostForm(srv.URL+"/introspect", form)
			if err != nil {
				t.Fatal(err)
			}
			var intro struct {
				Active bool `json:"active"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&intro)
			resp.Body.Close()
			if resp.StatusCode != 200 || !intro.Active {
				t.Errorf("introspect = %d, active %v", resp.StatusCode, intro.Active)
			}
			resp, err = testHTTP.PostForm(srv.URL+"/revoke", form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("revoke = %d", resp.StatusCode)
			}
			// The rotated-away refresh token is refused by the provider, and
			// the CLI sees the provider's invalid_grant as is.
			if _, err := gc.Refresh(t.Context(), tok.RefreshToken, nil); !grant.IsInvalidGrant(err) {
				t.Errorf("reused refresh token: %v, want invalid_grant", err)
			}

			if idp.Grants(GrantAuthorizationCode) != 1 || idp.Grants(GrantRefreshToken) != 2 {
				t.Errorf("the provider saw %d code and %d refresh requests", idp.Grants(GrantAuthorizationCode), idp.Grants(GrantRefreshToken))
			}
		})
	}
}

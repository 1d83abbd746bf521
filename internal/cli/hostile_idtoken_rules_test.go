package cli

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// idTokenRuleCases: the ID token rules of OpenID Connect Core §3.1.3.7 and
// RFC 8725 that go beyond signature, iss, aud and exp, and the rule that no
// ID token is stored or printed unless sesame verified it.
func idTokenRuleCases() []hostileCase {
	// respond stages the token response of the login's code exchange, with
	// an ID token built from the login's own nonce.
	respond := func(idToken func(idp *testidp.IdP, claims map[string]any) string) func(*hostileBrowser, string, url.Values) bool {
		return func(b *hostileBrowser, _ string, q url.Values) bool {
			c := b.idp.Claims()
			c["nonce"] = q.Get("nonce")
			body := map[string]any{"access_token": "at-hostile", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-hostile"}
			if idToken != nil {
				body["id_token"] = idToken(b.idp, c)
			}
			raw, _ := json.Marshal(body)
			b.idp.FailNext(1, 200, "application/json", string(raw))
			return true
		}
	}
	signed := func(edit func(map[string]any)) func(*testidp.IdP, map[string]any) string {
		return func(idp *testidp.IdP, c map[string]any) string {
			edit(c)
			return idp.SignIDToken(c)
		}
	}
	return []hostileCase{
		{surface: "id_token", name: "no sub", act: respond(signed(func(c map[string]any) { delete(c, "sub") })), wantCode: 1, want: "no sub claim"},
		{surface: "id_token", name: "several audiences without azp", act: respond(signed(func(c map[string]any) { c["aud"] = []string{"test-client", "https://api.example"} })), wantCode: 1, want: "no azp"},
		{surface: "id_token", name: "azp of another client", act: respond(signed(func(c map[string]any) {
			c["aud"] = []string{"test-client", "other-client"}
			c["azp"] = "other-client"
		})), wantCode: 1, want: `azp is "other-client"`},
		{surface: "id_token", name: "an access token (typ at+jwt) as the ID token", act: respond(func(idp *testidp.IdP, c map[string]any) string {
			return idp.SignJWT("at+jwt", c)
		}), wantCode: 1, want: "typ"},
		{surface: "id_token", name: "provider without jwks_uri", setup: func(h *harness) {
			h.env["SESAME_ISSUER"] = discoveryWith(h, map[string]any{"jwks_uri": nil})
		}, args: []string{"login", "--timeout", "1500ms"}, wantCode: 1, want: "no jwks_uri"},
		{surface: "id_token", name: "token --id-token: expired and not renewed on refresh", setup: func(h *harness) {
			h.clock.Add(2 * time.Hour) // past the ID token's exp
			body, _ := json.Marshal(map[string]any{"access_token": "at-renewed", "token_type": "Bearer", "expires_in": 3600})
			h.idp.FailNext(1, 200, "application/json", string(body))
		}, args: []string{"token", "--id-token"}, mayStore: true, wantCode: 4, want: "ID token has expired"},
		{surface: "id_token", name: "token --format kubectl --id-token: no record of a verification", setup: func(h *harness) {
			s := h.keychain()
			raw, _ := s.Get("default")
			var m map[string]any
			json.Unmarshal(raw, &m)
			delete(m, "identity") // as an entry that stored an unverified ID token would be
			raw, _ = json.Marshal(m)
			s.Set("default", raw)
		}, args: []string{"token", "--format", "kubectl", "--id-token"}, wantCode: 4, want: "no record of its verification"},
		{surface: "id_token", name: "a refreshed ID token that fails verification is not stored", setup: func(h *harness) {
			c := h.idp.Claims()
			c["sub"] = "mallory"
			body, _ := json.Marshal(map[string]any{"access_token": "at-2", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-2", "id_token": h.idp.SignIDToken(c)})
			h.idp.FailNext(1, 200, "application/json", string(body))
		}, args: []string{"token"}, mayStore: true, stdoutOK: true, wantCode: 0,
			after: func(t *testing.T, h *harness, stdout, stderr string) {
				toks := storedTokens(t, h)
				if toks.AccessToken != "at-2" || toks.Identity == nil || toks.Identity.Subject != testidp.Subject {
					t.Errorf("stored %+v", toks)
				}
				if !strings.Contains(stderr, "another subject") {
					t.Errorf("no warning:\n%s", stderr)
				}
			}},
		{surface: "claims", name: "a token that names its own issuer is not called valid", setup: func(h *harness) {
			// A profile without an issuer, and a token from another
			// provider that names itself: its keys match its signature.
			forger := testidp.New(h.t, testidp.Options{})
			if err := config.SaveProfile(filepath.Join(h.home, "config", "sesame", "config.yaml"), "plain", map[string]any{"client_id": "test-client"}); err != nil {
				h.t.Fatal(err)
			}
			h.env["FORGED"] = forger.SignIDToken(forger.Claims())
		}, args: []string{"claims", "--profile", "plain", "$FORGED"}, stdoutOK: true, wantCode: 1, want: "proves nothing"},
	}
}

func storedTokens(t *testing.T, h *harness) *session.Tokens {
	t.Helper()
	raw, err := h.keychain().Get("default")
	if err != nil {
		t.Fatal(err)
	}
	var toks session.Tokens
	if err := json.Unmarshal(raw, &toks); err != nil {
		t.Fatal(err)
	}
	return &toks
}

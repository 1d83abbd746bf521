package login

import (
	"net/url"
	"testing"

	"golang.org/x/oauth2"
)

func TestAuthorizationRequest(t *testing.T) {
	r := request{
		authURL: "https://idp.example/auth?tenant=t1", clientID: "cli", redirectURI: "http://127.0.0.1:5000/callback",
		scopes:    []string{"openid", "offline_access"},
		resources: []string{"https://api.one", "https://api.two"},
		params:    map[string]string{"login_hint": "alice"},
		state:     "st", nonce: "no", verifier: oauth2.GenerateVerifier(),
	}
	raw, err := r.url()
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	want := map[string]string{
		"tenant": "t1", "response_type": "code", "client_id": "cli", "redirect_uri": "http://127.0.0.1:5000/callback",
		"scope": "openid offline_access", "state": "st", "nonce": "no", "code_challenge_method": "S256",
		"code_challenge": oauth2.S256ChallengeFromVerifier(r.verifier), "login_hint": "alice", "prompt": "consent",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if got := q["resource"]; len(got) != 2 || got[0] != "https://api.one" || got[1] != "https://api.two" {
		t.Errorf("resource = %v", got)
	}
}

func TestPromptIsNotOverridden(t *testing.T) {
	r := request{authURL: "https://idp/auth", scopes: []string{"offline_access"}, params: map[string]string{"prompt": "login"}, verifier: oauth2.GenerateVerifier()}
	raw, _ := r.url()
	u, _ := url.Parse(raw)
	if p := u.Query().Get("prompt"); p != "login" {
		t.Errorf("prompt = %q", p)
	}
	r = request{authURL: "https://idp/auth", scopes: []string{"openid"}, verifier: oauth2.GenerateVerifier()}
	raw, _ = r.url()
	u, _ = url.Parse(raw)
	if u.Query().Has("prompt") {
		t.Error("prompt sent without offline_access")
	}
}

func TestReservedParamsRefused(t *testing.T) {
	for _, k := range []string{"state", "nonce", "code_challenge", "redirect_uri", "client_id", "response_type"} {
		if CheckParams(map[string]string{k: "x"}) == nil {
			t.Errorf("--param %s accepted", k)
		}
	}
	if err := CheckParams(map[string]string{"organization_id": "o1", "login_hint": "a"}); err != nil {
		t.Error(err)
	}
}

func TestRandomTokenEntropy(t *testing.T) {
	a, b := randomToken(32), randomToken(32)
	if a == b || len(a) < 43 {
		t.Fatalf("weak random tokens %q %q", a, b)
	}
}

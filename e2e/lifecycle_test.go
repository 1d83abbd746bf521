package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// countEvents counts the IdP's events by name, and refresh grants.
func countEvents(t *testing.T, idp *IdP) (refreshes int, byName map[string]int) {
	byName = map[string]int{}
	for _, ev := range idp.events(t) {
		name, _ := ev["event"].(string)
		byName[name]++
		if name == "grant.success" && ev["grant_type"] == "refresh_token" {
			refreshes++
		}
	}
	return refreshes, byName
}

// Many sesame processes asking at once when the token needs refreshing:
// exactly one refresh grant, no refresh token reuse, one token for all.
func TestConcurrentTokenProcessesRefreshOnce(t *testing.T) {
	requireE2E(t)
	n := 30
	if v, err := strconv.Atoi(os.Getenv("SESAME_E2E_PROCESSES")); err == nil {
		n = v
	}
	// 6-second access tokens: the default --min-ttl is capped at half that,
	// so 3.5 seconds after login every sesame token wants a refresh.
	idp := startIdP(t, "--access-token-ttl", "6")
	e := newEnv(t)
	if r := e.login(idp); r.Code != 0 {
		t.Fatalf("login: %s", r.Stderr)
	}
	time.Sleep(3500 * time.Millisecond)
	results := make([]Result, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = e.run("token") }()
	}
	wg.Wait()
	took := time.Since(start)
	for i, r := range results {
		if r.Code != 0 || r.Stdout != results[0].Stdout {
			t.Fatalf("process %d: exit %d, same token %v\n%s", i, r.Code, r.Stdout == results[0].Stdout, r.Stderr)
		}
	}
	refreshes, ev := countEvents(t, idp)
	t.Logf("%d concurrent `sesame token` at expiry: %s wall, %d refresh grant(s) at the IdP, %d grant.error, %d grant.revoked",
		n, took.Round(time.Millisecond), refreshes, ev["grant.error"], ev["grant.revoked"])
	if refreshes != 1 || ev["grant.error"] != 0 || ev["grant.revoked"] != 0 {
		t.Errorf("IdP saw %d refresh grants and events %v; want exactly one refresh and no errors", refreshes, ev)
	}
	if code, _ := userinfo(t, idp, strings.TrimSpace(results[0].Stdout)); code != 200 {
		t.Errorf("userinfo refused the shared token: %d", code)
	}
}

func TestResourceToken(t *testing.T) {
	requireE2E(t)
	const api = "https://api.example.test"
	idp := startIdP(t)
	e := newEnv(t)
	if r := e.login(idp, "--resource", api); r.Code != 0 {
		t.Fatalf("login: %s", r.Stderr)
	}
	tok := strings.TrimSpace(e.mustRun("token", "--resource", api).Stdout)
	if aud := jwtClaims(t, tok)["aud"]; aud != api && !contains(aud, api) {
		t.Errorf("resource token aud = %v, want %s", aud, api)
	}
	again := strings.TrimSpace(e.mustRun("token", "--resource", api).Stdout)
	base := strings.TrimSpace(e.mustRun("token").Stdout)
	refreshes, _ := countEvents(t, idp)
	if again != tok || refreshes != 1 {
		t.Errorf("resource token not cached: same=%v, %d refreshes", again == tok, refreshes)
	}
	if code, _ := userinfo(t, idp, base); code != 200 {
		t.Errorf("the login's own token stopped working: %d", code)
	}
	// The refresh for the resource rotated the refresh token: the next
	// refresh presents the new one, and the grant survives.
	e.mustRun("refresh")
	if _, ev := countEvents(t, idp); ev["grant.revoked"] != 0 || ev["grant.error"] != 0 {
		t.Errorf("a stale refresh token was presented: %v", ev)
	}
}

func TestRevokeEndsTheGrant(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)
	if r := e.login(idp); r.Code != 0 {
		t.Fatalf("login: %s", r.Stderr)
	}
	tok := strings.TrimSpace(e.mustRun("token").Stdout)
	e.mustRun("revoke")
	if code, _ := userinfo(t, idp, tok); code != 401 {
		t.Errorf("userinfo after revoke: %d, want 401", code)
	}
	if r := e.run("token"); r.Code != 4 || r.Stdout != "" {
		t.Errorf("token after revoke: exit %d %q", r.Code, r.Stdout)
	}
	if _, ev := countEvents(t, idp); ev["revocation.success"] != 1 {
		t.Errorf("revocation events %v", ev)
	}
}

func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.20s…", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func contains(v any, s string) bool {
	list, _ := v.([]any)
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

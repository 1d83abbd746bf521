package e2e

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/session"
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

// kill -9 at random points of `sesame token`, `sesame refresh` and
// `sesame login`: the keychain entry always reads back whole, as the old or
// the new token set, never a mix or garbage. 100+ trials, bounded in time.
func TestKill9LeavesStoreWhole(t *testing.T) {
	requireE2E(t)
	trials := map[string]int{"token": 60, "refresh": 30, "login": 15}
	if v, err := strconv.Atoi(os.Getenv("SESAME_E2E_CRASH_TRIALS")); err == nil {
		trials = map[string]int{"token": v * 4 / 7, "refresh": v * 2 / 7, "login": v / 7}
	}
	idp := startIdP(t, "--access-token-ttl", "10")
	e := newEnv(t)
	deadline := time.Now().Add(4 * time.Minute)
	type tally struct{ killed, old, changed, relogins int }
	stats := map[string]*tally{}
	for _, what := range []string{"token", "refresh", "login"} {
		st := &tally{}
		stats[what] = st
		for i := 0; i < trials[what] && time.Now().Before(deadline); i++ {
			// A kill after the provider rotated the refresh token but before
			// the store was written leaves a spent refresh token: the grant
			// is then gone (reuse detection) and only a new login helps.
			if e.stored() == "" || e.run("refresh").Code == 4 {
				if r := e.login(idp); r.Code != 0 {
					t.Fatalf("login: %s", r.Stderr)
				}
				st.relogins++
			}
			before := string(e.decoded())
			args := map[string][]string{
				"token":   {"token", "--min-ttl", "1h"}, // an exact --min-ttl: always refresh
				"refresh": {"refresh"},
				"login":   {"login", "--issuer", idp.Issuer, "--client-id", "sesame-cli", "--timeout", "30s"},
			}[what]
			os.Remove(e.BrowserLog)
			cmd := exec.Command(sesameBin, args...)
			cmd.Env = e.environ()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			window := map[string]int{"token": 50, "refresh": 50, "login": 1500}[what]
			time.Sleep(time.Duration(rand.IntN(window)) * time.Millisecond)
			if cmd.Process.Signal(syscall.SIGKILL) == nil {
				st.killed++
			}
			cmd.Wait()
			raw := e.decoded()
			var tk session.Tokens
			if err := json.Unmarshal(raw, &tk); err != nil || tk.AccessToken == "" || tk.RefreshToken == "" || tk.Version != 1 {
				t.Fatalf("%s trial %d: the store does not read back whole: %v\n%.200s", what, i, err, raw)
			}
			if string(raw) == before {
				st.old++
			} else {
				st.changed++
			}
		}
		if st.killed == 0 {
			t.Errorf("no %s trial ran", what)
		}
	}
	total := 0
	for what, st := range stats {
		total += st.killed
		t.Logf("kill -9 of sesame %s: %d trials, %d left the old token set, %d the new one, %d needed a new login afterwards",
			what, st.killed, st.old, st.changed, st.relogins)
	}
	t.Logf("%d kill -9 trials in all; every entry read back whole", total)
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

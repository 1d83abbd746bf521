package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
)

func TestLoginTokenStatusLogout(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)

	r := e.login(idp)
	if r.Code != 0 {
		t.Fatalf("login: exit %d\n%s\nbrowser: %s", r.Code, r.Stderr, e.browserLog())
	}
	t.Logf("full login (browser sign-in, exchange, verification, keychain write) took %s", r.Took)
	if r.Stdout != "" {
		t.Errorf("login wrote to stdout: %q", r.Stdout)
	}
	page := e.browserDone()
	if text, _ := page["text"].(string); !strings.Contains(text, "Signed in") {
		t.Errorf("browser page: %v", page)
	}
	// The browser's command line, which every local user can read, carries
	// the listener's one-time start URL, never the authorization request;
	// stderr shows the same URL.
	opened := e.openedURL()
	if u, err := url.Parse(opened); err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || !strings.HasPrefix(u.Path, "/start/") || u.RawQuery != "" {
		t.Errorf("the browser was opened at %q", opened)
	}
	if !strings.Contains(r.Stderr, "\n  "+opened+"\n") {
		t.Errorf("login did not print the start URL %q on stderr:\n%s", opened, r.Stderr)
	}
	for _, s := range []string{opened, r.Stderr} {
		if strings.Contains(s, "state=") || strings.Contains(s, "code_challenge") || strings.Contains(s, idp.Issuer) {
			t.Errorf("the authorization request is visible: %s", s)
		}
	}

	tok := strings.TrimSuffix(e.mustRun("token").Stdout, "\n")
	if tok == "" || strings.ContainsAny(tok, " \n") {
		t.Fatalf("token printed %q", tok)
	}
	if text, _ := page["text"].(string); strings.Contains(text, tok) {
		t.Error("the browser page shows the access token")
	}
	code, info := userinfo(t, idp, tok)
	if code != 200 || info["sub"] != "alice" || info["email"] != "alice@example.com" {
		t.Fatalf("userinfo with the printed token: %d %v", code, info)
	}

	var tj map[string]any
	if err := json.Unmarshal([]byte(e.mustRun("token", "--json").Stdout), &tj); err != nil {
		t.Fatal(err)
	}
	if tj["access_token"] != tok || tj["expires_at"] == nil || !strings.Contains(tj["scope"].(string), "offline_access") {
		t.Errorf("token --json: %v", tj)
	}

	idt := strings.TrimSpace(e.mustRun("token", "--id-token").Stdout)
	if alg := jwtHeader(t, idt)["alg"]; alg != "RS256" {
		t.Errorf("ID token alg %v", alg)
	}

	var report struct {
		Current  string           `json:"current"`
		Profiles []map[string]any `json:"profiles"`
	}
	if err := json.Unmarshal([]byte(e.mustRun("status", "--json").Stdout), &report); err != nil {
		t.Fatal(err)
	}
	st := report.Profiles
	if report.Current != e.Profile || len(st) != 1 || st[0]["logged_in"] != true || st[0]["issuer"] != idp.Issuer || st[0]["subject"] != "alice" ||
		st[0]["email"] != "alice@example.com" || st[0]["storage"] != "keychain" || st[0]["has_refresh_token"] != true {
		t.Errorf("status --json: %v", st)
	}
	human := e.mustRun("status").Stdout
	for _, want := range []string{e.Profile + " (current)", "alice@example.com", "expires:", "storage:  keychain"} {
		if !strings.Contains(human, want) {
			t.Errorf("status lacks %q:\n%s", want, human)
		}
	}

	// The tokens live in the keychain only: no file under HOME or the XDG
	// dirs, nor in the keyring daemon's own files, holds them in the clear.
	dirs := []string{e.Home}
	if d := os.Getenv("SESAME_E2E_KEYRING_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	for _, dir := range dirs {
		for _, secret := range []string{tok, refreshToken(t, e)} {
			if hits := filesContaining(t, dir, secret); len(hits) > 0 {
				t.Errorf("a token is in plain files: %v", hits)
			}
		}
	}
	if cfg, err := os.ReadFile(e.Home + "/.config/sesame/config.yaml"); err != nil || !strings.Contains(string(cfg), idp.Issuer) {
		t.Errorf("login did not save the profile: %v\n%s", err, cfg)
	}

	e.mustRun("logout")
	if e.stored() != "" {
		t.Error("logout left tokens in the keychain")
	}
	r = e.run("token")
	if r.Code != 4 || r.Stdout != "" || !strings.Contains(r.Stderr, "sesame login") {
		t.Errorf("token after logout: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if r := e.run("status"); r.Code != 4 || !strings.Contains(r.Stdout, "not logged in") {
		t.Errorf("status after logout: exit %d %q", r.Code, r.Stdout)
	}
}

// A provider mounted under a path that signs ID tokens with ES384, as Logto does.
func TestLoginIssuerWithPathES384(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t, "--path", "/oidc", "--id-token-alg", "ES384")
	if !strings.HasSuffix(idp.Issuer, "/oidc") {
		t.Fatalf("issuer %s", idp.Issuer)
	}
	e := newEnv(t)
	if r := e.login(idp); r.Code != 0 {
		t.Fatalf("login: exit %d\n%s\nbrowser: %s", r.Code, r.Stderr, e.browserLog())
	}
	idt := strings.TrimSpace(e.mustRun("token", "--id-token").Stdout)
	if alg := jwtHeader(t, idt)["alg"]; alg != "ES384" {
		t.Errorf("ID token alg %v, want ES384", alg)
	}
	tok := strings.TrimSpace(e.mustRun("token").Stdout)
	if code, _ := userinfo(t, idp, tok); code != 200 {
		t.Errorf("userinfo: %d", code)
	}
}

// Each failed login leaves the stored tokens exactly as they were.
func TestFailedLoginsKeepStoredTokens(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)
	if r := e.login(idp); r.Code != 0 {
		t.Fatalf("first login: exit %d\n%s", r.Code, r.Stderr)
	}
	before := e.stored()
	tok := strings.TrimSpace(e.mustRun("token").Stdout)

	cases := []struct {
		action, timeout, wantErr, wantPage string
	}{
		{"wrong-state", "10s", "wrong state", "does not belong"},
		{"deny", "60s", "access_denied", "Sign-in failed"},
		{"bad-code", "60s", "invalid_grant", "Sign-in failed"},
	}
	for _, c := range cases {
		t.Run(c.action, func(t *testing.T) {
			e.Action = c.action
			r := e.login(idp, "--timeout", c.timeout)
			if r.Code == 0 {
				t.Fatalf("login succeeded:\n%s", r.Stderr)
			}
			if !strings.Contains(r.Stderr, c.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", c.wantErr, r.Stderr)
			}
			if page := e.browserDone(); !strings.Contains(page["text"].(string), c.wantPage) {
				t.Errorf("browser page lacks %q: %v", c.wantPage, page)
			}
			if after := e.stored(); after != before {
				t.Errorf("stored tokens changed")
			}
		})
	}
	e.Action = "approve"
	if got := strings.TrimSpace(e.mustRun("token").Stdout); got != tok {
		t.Error("the token changed after failed logins")
	}
	if code, _ := userinfo(t, idp, tok); code != 200 {
		t.Errorf("the kept token is refused by userinfo: %d", code)
	}
}

// An access token near expiry is refreshed once; the rotated refresh
// token replaces the old one in the keychain.
func TestTokenRefreshesNearExpiry(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t, "--access-token-ttl", "120")
	e := newEnv(t)
	if r := e.login(idp); r.Code != 0 {
		t.Fatalf("login: exit %d\n%s", r.Code, r.Stderr)
	}
	old := strings.TrimSpace(e.mustRun("token").Stdout) // 120s left, above the default 60s
	oldRT := refreshToken(t, e)
	if again := strings.TrimSpace(e.mustRun("token").Stdout); again != old {
		t.Fatal("a valid token was refreshed")
	}
	fresh := strings.TrimSpace(e.mustRun("token", "--min-ttl", "5m").Stdout)
	if fresh == old {
		t.Fatal("token within --min-ttl was not refreshed")
	}
	if rt := refreshToken(t, e); rt == oldRT || rt == "" {
		t.Error("the rotated refresh token was not stored")
	}
	if code, _ := userinfo(t, idp, fresh); code != 200 {
		t.Errorf("userinfo with the refreshed token: %d", code)
	}
	refreshes := 0
	for _, ev := range idp.events(t) {
		if ev["event"] == "grant.success" && ev["grant_type"] == "refresh_token" {
			refreshes++
		}
	}
	if refreshes != 1 {
		t.Errorf("IdP saw %d refresh grants, want 1", refreshes)
	}
}

func TestNotLoggedIn(t *testing.T) {
	requireE2E(t)
	e := newEnv(t)
	// A profile the file has, without a login (one it lacks exits 2:
	// profiles_test.go).
	path := filepath.Join(e.Home, ".config", "sesame", "config.yaml")
	if err := config.SaveProfile(path, e.Profile, map[string]any{"client_id": "sesame-cli"}); err != nil {
		t.Fatal(err)
	}
	r := e.run("token")
	if r.Code != 4 || r.Stdout != "" || !strings.Contains(r.Stderr, "not logged in") {
		t.Errorf("exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

// openedURL is the URL sesame opened the browser stand-in at.
func (e *Env) openedURL() string {
	for _, l := range strings.Split(e.browserLog(), "\n") {
		var ev struct{ Event, URL string }
		if json.Unmarshal([]byte(l), &ev) == nil && ev.Event == "open" {
			return ev.URL
		}
	}
	return ""
}

func refreshToken(t *testing.T, e *Env) string {
	t.Helper()
	var s struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(e.decoded(), &s); err != nil {
		t.Fatalf("stored tokens: %v", err)
	}
	return s.RefreshToken
}

func jwtHeader(t *testing.T, jwt string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// Without a Secret Service, login stops before the browser and names the
// opt-in fallback; with --insecure-storage it works and keeps a 0600 file.
func TestNoKeychainAndFileFallback(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)
	e.NoKeychain = true
	r := e.login(idp)
	if r.Code != 1 || !strings.Contains(r.Stderr, "keychain is not available") || !strings.Contains(r.Stderr, "--insecure-storage") {
		t.Fatalf("without a keychain: exit %d\n%s", r.Code, r.Stderr)
	}
	if strings.Contains(r.Stderr, "Open this URL") {
		t.Error("the sign-in started although the tokens could not be stored")
	}

	r = e.login(idp, "--insecure-storage")
	if r.Code != 0 || !strings.Contains(r.Stderr, "plain file") {
		t.Fatalf("--insecure-storage: exit %d\n%s", r.Code, r.Stderr)
	}
	r = e.mustRun("token")
	if !strings.Contains(r.Stderr, "warning: tokens for profile") {
		t.Errorf("no warning on use of the file: %q", r.Stderr)
	}
	tok := strings.TrimSpace(r.Stdout)
	hits := filesContaining(t, e.Home, tok)
	if len(hits) != 1 || !strings.Contains(hits[0], "/.local/state/sesame/tokens/") {
		t.Fatalf("token files: %v", hits)
	}
	if fi, err := os.Stat(hits[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode: %v %v", fi.Mode(), err)
	}
	if code, _ := userinfo(t, idp, tok); code != 200 {
		t.Errorf("userinfo: %d", code)
	}
}

// On a machine without a display or $BROWSER (SSH, containers) a loopback
// login cannot come back: login says so at once and points to --device.
func TestHeadlessLoginPointsToDevice(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)
	e.NoBrowser = true
	r := e.login(idp)
	if r.Code != 1 || !strings.Contains(r.Stderr, "sesame login --device") || strings.Contains(r.Stderr, "Open this URL") || r.Took > 10*time.Second {
		t.Errorf("headless login: exit %d after %s\n%s", r.Code, r.Took, r.Stderr)
	}
}

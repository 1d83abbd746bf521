package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// What sesame reports is true, against oidc-provider: a grant
// the provider ended, endpoint settings made after the login, a logout the
// provider refuses, and Ctrl-C during a device login.

// runWith runs sesame with extra environment variables, as e.run does.
func (e *Env) runWith(extra []string, args ...string) Result {
	e.t.Helper()
	cmd := exec.Command(sesameBin, args...)
	cmd.Env = append(e.environ(), extra...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: withoutDebug(errb.String()), Took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		e.t.Fatalf("run sesame %v: %v", args, err)
	}
	recordOutput(args, out.String(), errb.String())
	return r
}

// metadata is the provider's discovery document.
func metadata(t *testing.T, idp *IdP) map[string]any {
	t.Helper()
	var md map[string]any
	getJSON(t, strings.TrimSuffix(idp.Issuer, "/")+"/.well-known/openid-configuration", &md)
	return md
}

// postForm sends form to one of the provider's endpoints, as another
// client of the same grant would.
func postForm(t *testing.T, endpoint string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := httpClient.PostForm(endpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func statusJSON(t *testing.T, e *Env) (int, map[string]any) {
	t.Helper()
	r := e.run("status", "--json")
	var report struct {
		Current  string           `json:"current"`
		Profiles []map[string]any `json:"profiles"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &report); err != nil {
		t.Fatalf("status --json: %v %q", err, r.Stdout)
	}
	for _, p := range report.Profiles {
		if p["profile"] == report.Current {
			return r.Code, p
		}
	}
	t.Fatalf("status --json has no current profile %q: %s", report.Current, r.Stdout)
	return 0, nil
}

// fileRefreshToken reads the refresh token of a login kept with
// --insecure-storage: the one token file there is.
func fileRefreshToken(t *testing.T, e *Env) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(e.Home, ".local", "state", "sesame", "tokens", "*"))
	if len(files) != 1 {
		t.Fatalf("token files: %q", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(b, &s); err != nil || s.RefreshToken == "" {
		t.Fatalf("the token file holds no refresh token: %v", err)
	}
	return s.RefreshToken
}

// The refresh token expires at the provider while the login is stored in
// the keychain: status --check asks (the access token has expired: a
// refresh), is refused, and exits 4; from then on token exits 4 at once
// with nothing on stdout and no request, status shows the login as ended
// and exits 4, and logout removes it without a revocation request.
func TestEndedGrant(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t, "--access-token-ttl", "8", "--refresh-token-ttl", "8")
	e := newEnv(t)
	if r := e.login(idp); r.Code != 0 {
		t.Fatalf("login: %s", r.Stderr)
	}
	loggedIn := time.Now()
	if r := e.mustRun("status", "--check"); !strings.Contains(r.Stdout, "ok (the provider answered a userinfo)") {
		t.Errorf("status --check of a live login:\n%s", r.Stdout)
	}
	time.Sleep(time.Until(loggedIn.Add(9 * time.Second)))

	r := e.run("status", "--check")
	if r.Code != 4 || !strings.Contains(r.Stdout, "ended: the provider refused the refresh token") || !strings.Contains(r.Stderr, "no longer accepts the refresh token") {
		t.Fatalf("status --check once the refresh token expired: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	_, before := countEvents(t, idp)
	r = e.run("token")
	if r.Code != 4 || r.Stdout != "" || !strings.Contains(r.Stderr, "has ended") || !strings.Contains(r.Stderr, "sesame login") {
		t.Errorf("token of an ended login: exit %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if r := e.run("status"); r.Code != 4 || !strings.Contains(r.Stdout, "ended: ") || !strings.Contains(r.Stdout, "invalid_grant") {
		t.Errorf("status of an ended login: exit %d\n%s", r.Code, r.Stdout)
	}
	if code, st := statusJSON(t, e); code != 4 || st["ended"] != true || st["logged_in"] != false || !strings.HasPrefix(st["ended_reason"].(string), "invalid_grant") {
		t.Errorf("status --json of an ended login: exit %d %v", code, st)
	}
	e.mustRun("logout")
	if _, after := countEvents(t, idp); after["grant.error"] != before["grant.error"] || after["revocation.success"] != 0 || after["revocation.error"] != 0 {
		t.Errorf("requests for an ended login: events %v, before %v", after, before)
	}
	if r := e.run("status"); r.Code != 4 || !strings.Contains(r.Stdout, "not logged in") {
		t.Errorf("status after logout: exit %d\n%s", r.Code, r.Stdout)
	}
}

// The grant is revoked at the provider (another device, an administrator):
// oidc-provider revokes its access tokens too, so status --check finds the
// access token refused at userinfo, refreshes, is refused, and exits 4.
func TestEndedGrantRevokedAtProvider(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)
	if r := e.login(idp, "--insecure-storage"); r.Code != 0 {
		t.Fatalf("login: %s", r.Stderr)
	}
	code, _ := postForm(t, metadata(t, idp)["revocation_endpoint"].(string), url.Values{
		"token": {fileRefreshToken(t, e)}, "token_type_hint": {"refresh_token"}, "client_id": {"sesame-cli"}})
	if code != 200 {
		t.Fatalf("revocation at the provider: HTTP %d", code)
	}
	if r := e.run("status"); r.Code != 0 {
		t.Errorf("status without --check asks nobody: exit %d\n%s", r.Code, r.Stdout)
	}
	r := e.run("status", "--check")
	if r.Code != 4 || !strings.Contains(r.Stdout, "ended: the provider refused the refresh token") {
		t.Fatalf("status --check after revocation: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if r := e.run("token"); r.Code != 4 || r.Stdout != "" {
		t.Errorf("token of an ended login: exit %d %q", r.Code, r.Stdout)
	}
	if _, ev := countEvents(t, idp); ev["userinfo.error"] != 1 || ev["grant.error"] != 1 {
		t.Errorf("the check asked: %v; want one refused userinfo, one refused refresh", ev)
	}
}

// A refresh token used elsewhere (a copy, or a refresh whose answer was
// lost) is reuse to oidc-provider, which revokes the grant: sesame's next
// refresh exits 4 and the login shows as ended.
func TestEndedGrantByReuseDetection(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)
	if r := e.login(idp, "--insecure-storage"); r.Code != 0 {
		t.Fatalf("login: %s", r.Stderr)
	}
	code, body := postForm(t, metadata(t, idp)["token_endpoint"].(string), url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {fileRefreshToken(t, e)}, "client_id": {"sesame-cli"}})
	if code != 200 {
		t.Fatalf("refresh elsewhere: HTTP %d %v", code, body)
	}
	for kind, k := range map[string]string{"refresh token": "refresh_token", "access token": "access_token", "ID token": "id_token"} {
		if v, ok := body[k].(string); ok {
			recordSecret(kind, v)
		}
	}
	r := e.run("token", "--min-ttl", "2h") // an exact --min-ttl: refresh now
	if r.Code != 4 || r.Stdout != "" || !strings.Contains(r.Stderr, "invalid_grant") {
		t.Fatalf("token after reuse: exit %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if _, ev := countEvents(t, idp); ev["grant.revoked"] != 1 {
		t.Errorf("the provider did not end the grant: %v", ev)
	}
	if r := e.run("status"); r.Code != 4 || !strings.Contains(r.Stdout, "ended: ") {
		t.Errorf("status: exit %d\n%s", r.Code, r.Stdout)
	}
}

// SESAME_USERINFO_URL set after the login is where `sesame userinfo` goes,
// with the stored access token.
func TestLateUserinfoURL(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)
	if r := e.login(idp); r.Code != 0 {
		t.Fatalf("login: %s", r.Stderr)
	}
	tok := strings.TrimSpace(e.mustRun("token").Stdout)
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"sub":"alice","served_by":"late-userinfo"}`)
	}))
	defer srv.Close()
	r := e.runWith([]string{"SESAME_USERINFO_URL=" + srv.URL + "/userinfo"}, "userinfo")
	mu.Lock()
	defer mu.Unlock()
	if r.Code != 0 || !strings.Contains(r.Stdout, "late-userinfo") || len(got) != 1 || got[0] != "Bearer "+tok {
		t.Fatalf("userinfo with a late SESAME_USERINFO_URL: exit %d %q %q; requests %d", r.Code, r.Stdout, r.Stderr, len(got))
	}
	// Without it, the provider's own endpoint again: the setting was not stored.
	if r := e.mustRun("userinfo"); strings.Contains(r.Stdout, "late-userinfo") || !strings.Contains(r.Stdout, `"sub": "alice"`) {
		t.Errorf("userinfo without the setting:\n%s", r.Stdout)
	}
}

// A revocation endpoint that refuses (401 invalid_client, even to HTTP
// Basic, which oidc-provider advertises) or is down: logout removes the
// tokens all the same, says so in one line with the provider's answer,
// and exits 3; the grant indeed still works at the provider.
func TestLogoutWhenProviderRefusesRevocation(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	for _, tt := range []struct {
		name, body, want string
		status           int
		requests         int32
	}{
		{"invalid_client", `{"error":"invalid_client","error_description":"client authentication failed"}`, "the provider answered invalid_client (client authentication failed)", 401, 2},
		{"unavailable", `<html>maintenance</html>`, "HTTP 503", 503, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if r := e.login(idp); r.Code != 0 {
				t.Fatalf("login: %s", r.Stderr)
			}
			tok := strings.TrimSpace(e.mustRun("token").Stdout)
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.Header().Set("Content-Type", map[bool]string{true: "application/json", false: "text/html"}[tt.status == 401])
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			r := e.runWith([]string{"SESAME_REVOCATION_URL=" + srv.URL + "/revoke"}, "logout")
			first, _, _ := strings.Cut(r.Stderr, "\n")
			if r.Code != 3 || r.Stdout != "" || !strings.Contains(first, "removed the tokens of profile") ||
				!strings.Contains(first, tt.want) || !strings.Contains(first, "may stay active there until it expires") {
				t.Fatalf("logout: exit %d\nstdout %q\nstderr %q", r.Code, r.Stdout, r.Stderr)
			}
			if n.Load() != tt.requests {
				t.Errorf("%d revocation requests, want %d", n.Load(), tt.requests)
			}
			if r := e.run("token"); r.Code != 4 || r.Stdout != "" {
				t.Errorf("token after logout: exit %d %q", r.Code, r.Stdout)
			}
			if code, _ := userinfo(t, idp, tok); code != 200 {
				t.Errorf("the access token at the provider: HTTP %d; the message says it may stay active", code)
			}
		})
	}
}

// Ctrl-C while `login --device` polls: exit 130, "sesame: interrupted",
// nothing stored.
func TestDeviceLoginInterrupted(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)
	e.NoBrowser = true
	// --insecure-storage: whatever would be stored is a file to look for.
	cmd := exec.Command(sesameBin, "login", "--device", "--issuer", idp.Issuer, "--client-id", "sesame-cli", "--timeout", "60s", "--insecure-storage")
	cmd.Env = e.environ()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "enter the code:") {
			break
		}
	}
	time.Sleep(1500 * time.Millisecond) // polling
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
	}
	err = cmd.Wait()
	took := time.Since(start)
	recordOutput([]string{"login", "--device"}, "", seen.String())
	var ee *exec.ExitError
	out := withoutDebug(seen.String())
	if !errors.As(err, &ee) || ee.ExitCode() != 130 || !strings.HasSuffix(out, "sesame: interrupted\n") || took > 5*time.Second {
		t.Fatalf("login --device after SIGINT: %v after %s\n%s", err, took, out)
	}
	if files, _ := filepath.Glob(filepath.Join(e.Home, ".local", "state", "sesame", "tokens", "*")); len(files) != 0 {
		t.Errorf("an interrupted login stored %q", files)
	}
	// No profile was saved either: an unknown profile is a usage error.
	if r := e.run("token"); r.Code == 0 || r.Stdout != "" {
		t.Errorf("token after an interrupted login: exit %d %q", r.Code, r.Stdout)
	}
}

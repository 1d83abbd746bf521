package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sesame-cli/sesame/internal/config"
)

// sesame api against the fixture's API (e2e/idp/server.js): requests,
// bodies and output, pagination, the retry after a refused token, exit
// codes, and where the token may go.

// echo is what /api/echo answers.
type echo struct {
	Method  string              `json:"method"`
	Headers map[string]string   `json:"headers"`
	Query   map[string][]string `json:"query"`
	Body    string              `json:"body"`
}

// TestAPIRequests: methods, bodies (a string, a file, stdin, fields, a
// form), headers, query fields, --include, --jq and --silent, as the API
// received and answered them; no token in the output, debug lines included.
func TestAPIRequests(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := loggedIn(t, idp)
	file := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(file, []byte(`{"from":"file"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	echoURL := idp.API + "/echo"
	call := func(stdin string, args ...string) echo {
		t.Helper()
		r := e.runStdin(stdin, append([]string{"api"}, append(args, echoURL)...)...)
		var got echo
		if err := json.Unmarshal([]byte(r.Stdout), &got); r.Code != 0 || err != nil {
			t.Fatalf("api %q: exit %d %v\n%s\n%s", args, r.Code, err, r.Stdout, r.Stderr)
		}
		return got
	}
	cases := []struct {
		name, stdin      string
		args             []string
		method, body, ct string
	}{
		{"PUT with a string", "", []string{"-X", "PUT", "-d", `{"a":1}`}, "PUT", `{"a":1}`, "application/json"},
		{"a file", "", []string{"-d", "@" + file}, "POST", `{"from":"file"}`, "application/json"},
		{"stdin", "from stdin", []string{"-X", "PATCH", "-d", "@-"}, "PATCH", "from stdin", "application/json"},
		{"fields", "", []string{"-F", "name=widget", "-F", "count=3", "-F", "ok=true"}, "POST", `{"count":3,"name":"widget","ok":true}`, "application/json"},
		{"form", "", []string{"--form", "-F", "a=1", "-F", "b=x y"}, "POST", "a=1&b=x+y", "application/x-www-form-urlencoded"},
		{"a form string", "", []string{"--form", "-d", "k=v"}, "POST", "k=v", "application/x-www-form-urlencoded"},
	}
	for _, c := range cases {
		got := call(c.stdin, c.args...)
		if got.Method != c.method || got.Headers["content-type"] != c.ct {
			t.Errorf("%s: %s with content-type %q, want %s %q", c.name, got.Method, got.Headers["content-type"], c.method, c.ct)
		}
		if c.name == "fields" {
			var m map[string]any
			json.Unmarshal([]byte(got.Body), &m)
			if b, _ := json.Marshal(m); string(b) != c.body {
				t.Errorf("%s: body %q, want %s", c.name, got.Body, c.body)
			}
		} else if got.Body != c.body {
			t.Errorf("%s: body %q, want %q", c.name, got.Body, c.body)
		}
	}
	got := call("", "-H", "X-Test: hello", "-H", "Accept: text/plain", "-X", "GET", "-F", "q=a b", "-F", "n=2")
	if got.Headers["x-test"] != "hello" || got.Headers["accept"] != "text/plain" || got.Headers["authorization"] != "[present]" ||
		got.Headers["dpop"] != "" || got.Method != "GET" || got.Body != "" ||
		!slices.Equal(got.Query["q"], []string{"a b"}) || !slices.Equal(got.Query["n"], []string{"2"}) {
		t.Errorf("headers and GET fields: %+v", got)
	}

	r := e.mustRun("api", "--include", echoURL)
	head, body, ok := strings.Cut(r.Stdout, "\n\n")
	if !ok || !strings.HasPrefix(head, "HTTP/1.1 200 OK\n") || !strings.Contains(head, "\nContent-Type: application/json; charset=utf-8") ||
		!strings.Contains(head, "\nCache-Control: no-store") || json.Unmarshal([]byte(body), &got) != nil || got.Method != "GET" {
		t.Errorf("--include printed:\n%s", r.Stdout)
	}
	if r := e.mustRun("api", "--jq", ".method", "-X", "DELETE", echoURL); r.Stdout != "DELETE\n" {
		t.Errorf("--jq .method printed %q", r.Stdout)
	}
	if r := e.mustRun("api", "--silent", echoURL); r.Stdout != "" || r.Stderr != "" {
		t.Errorf("--silent printed %q and %q", r.Stdout, r.Stderr)
	}
	if got := trail(apiRequests(t, idp, "/api/echo")); len(got) != len(cases)+4 || slices.ContainsFunc(got, func(s string) bool { return s != "200 Bearer" }) {
		t.Errorf("the API saw %q, want %d requests, each 200 with a bearer token", got, len(cases)+4)
	}

	// Neither stream holds a token, debug lines included.
	secrets := []string{strings.TrimSpace(e.mustRun("token").Stdout), refreshToken(t, e)}
	for _, target := range []string{echoURL, idp.API + "/nope"} {
		stdout, stderr, code := e.rawRun("api", "--include", "--verbose", target)
		if !strings.Contains(stderr, "sesame: debug: ") || !strings.HasPrefix(stdout, "HTTP/1.1 ") {
			t.Errorf("api %s: exit %d, no debug output or no status line:\n%s\n%s", target, code, stdout, stderr)
		}
		for i, s := range secrets {
			if strings.Contains(stdout, s) || strings.Contains(stderr, s) {
				t.Errorf("api --include --verbose %s printed the %s", target, []string{"access token", "refresh token"}[i])
			}
		}
	}
}

// TestAPIPaginateAndPath: --paginate follows Link rel="next"; a path is
// resolved against api_url.
func TestAPIPaginateAndPath(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := loggedIn(t, idp)
	if r := e.mustRun("api", "--paginate", "--jq", ".[].id", idp.API+"/items"); r.Stdout != "1\n2\n3\n4\n5\n6\n" {
		t.Errorf("--paginate --jq printed %q", r.Stdout)
	}
	if r := e.mustRun("api", "--paginate", idp.API+"/items?page=2"); r.Stdout != `[{"id":3},{"id":4}][{"id":5},{"id":6}]` {
		t.Errorf("--paginate from page 2 printed %q", r.Stdout)
	}
	if r := e.mustRun("api", "--jq", ".[].id", idp.API+"/items"); r.Stdout != "1\n2\n" {
		t.Errorf("without --paginate: %q", r.Stdout)
	}
	if n := len(apiRequests(t, idp, "/api/items")); n != 3+2+1 {
		t.Errorf("the API saw %d requests for /api/items, want 6", n)
	}

	r := e.runWith([]string{"SESAME_API_URL=" + idp.API}, "api", "/me")
	var me map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &me); r.Code != 0 || err != nil || me["sub"] != "alice" {
		t.Errorf("SESAME_API_URL and /me: exit %d %v %s\n%s", r.Code, err, r.Stdout, r.Stderr)
	}
	if r := e.runWith([]string{"SESAME_API_URL=" + idp.API + "/"}, "api", "--jq", ".query.x[0]", "echo?x=1"); r.Code != 0 || r.Stdout != "1\n" {
		t.Errorf("SESAME_API_URL with a slash and echo?x=1: exit %d %q\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if r := e.run("api", "/me"); r.Code != 1 || !strings.Contains(r.Stderr, "api_url") {
		t.Errorf("a path without api_url: exit %d\n%s", r.Code, r.Stderr)
	}
}

// TestAPIRetriesOnce: a refused token is refreshed and the request sent
// once more, a body from stdin included (kept in memory for that); the
// new token serves later runs; a refresh the provider refuses ends the
// run with nothing resent.
func TestAPIRetriesOnce(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := loggedIn(t, idp)
	r := e.runStdin("streamed", "api", "-d", "@-", idp.API+"/reject-once")
	var got map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &got); r.Code != 0 || err != nil || got["body"] != "streamed" || refreshes(t, idp) != 1 {
		t.Errorf("stdin body to reject-once: exit %d, %d refreshes\nstdout %s\nstderr %s", r.Code, refreshes(t, idp), r.Stdout, r.Stderr)
	}
	file := filepath.Join(t.TempDir(), "body")
	os.WriteFile(file, []byte("file body"), 0o600)
	if got := runJSON(t, e, "api", "-d", "@"+file, idp.API+"/reject-once"); got["body"] != "file body" || got["method"] != "POST" {
		t.Errorf("a file body to reject-once: %v", got)
	}
	e.mustRun("api", idp.API+"/reject-once")
	if got := trail(apiRequests(t, idp, "/api/reject-once")); !slices.Equal(got, []string{"401 Bearer invalid_token", "200 Bearer", "200 Bearer", "200 Bearer"}) {
		t.Errorf("the API saw %q: stdin twice (refused, then with the new token), then the file and a GET once each", got)
	}
	if n := refreshes(t, idp); n != 1 {
		t.Errorf("%d refresh grants, want 1", n)
	}

	// The provider ends the grant: the token is refused, and so is the
	// refresh; nothing is sent again.
	md := metadata(t, idp)
	if code, _ := postForm(t, md["revocation_endpoint"].(string), url.Values{"client_id": {"sesame-cli"}, "token": {refreshToken(t, e)}}); code != 200 {
		t.Fatalf("revocation: %d", code)
	}
	r = e.run("api", idp.API+"/me")
	if r.Code != 4 || !strings.Contains(r.Stderr, "sesame login") {
		t.Errorf("api once the grant ended: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if got := trail(apiRequests(t, idp, "/api/me")); !slices.Equal(got, []string{"401 Bearer invalid_token"}) {
		t.Errorf("the API saw %q, want the one refusal", got)
	}
	if n := refreshes(t, idp); n != 1 {
		t.Errorf("%d refresh grants, want still 1", n)
	}
}

// TestAPIStdinBodyToNonceAPI: an API that wants a DPoP nonce challenges
// the first request, and a body from stdin cannot be sent twice. Either
// the body gets through whole, or the run names the nonce challenge as
// the reason; it is never sent again empty, nor blamed on the token.
func TestAPIStdinBodyToNonceAPI(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t, "--dpop-nonce")
	e := loggedIn(t, idp, "--dpop")
	r := e.runStdin("streamed", "api", "-d", "@-", "--jq", ".body", idp.API+"/echo")
	switch {
	case r.Code == 0 && r.Stdout != "streamed\n":
		t.Errorf("the API received the body %q, want %q", r.Stdout, "streamed\n")
	case r.Code != 0 && (r.Code != 1 || !strings.Contains(r.Stderr, "nonce") || strings.Contains(r.Stderr, "refused the token")):
		t.Errorf("a stdin body to an API that asks for a nonce: exit %d; stderr should name the nonce challenge, not a refused token:\n%s", r.Code, r.Stderr)
	}
	if got := trail(apiRequests(t, idp, "/api/echo")); r.Code != 0 && !slices.Equal(got, []string{"401 DPoP use_dpop_nonce"}) {
		t.Errorf("the API saw %q, want the one challenged request", got)
	}
	if n := refreshes(t, idp); n != 0 {
		t.Errorf("%d refresh grants: the token was never refused", n)
	}
}

// TestAPIExitCodes: a status other than 2xx exits 1 with the body on
// stdout and the status line on stderr, and is not retried; no login
// exits 4 with nothing sent; plain http goes to loopback hosts only.
func TestAPIExitCodes(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)
	cfg := filepath.Join(e.Home, ".config", "sesame", "config.yaml")
	if err := config.SaveProfile(cfg, e.Profile, map[string]any{"issuer": idp.Issuer, "client_id": "sesame-cli"}); err != nil {
		t.Fatal(err)
	}
	if r := e.run("api", idp.API+"/me"); r.Code != 4 || r.Stdout != "" || !strings.Contains(r.Stderr, "sesame login") {
		t.Errorf("not logged in: exit %d %q\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if r := e.login(idp); r.Code != 0 {
		t.Fatalf("login: exit %d\n%s", r.Code, r.Stderr)
	}
	r := e.run("api", idp.API+"/nope")
	if r.Code != 1 || !strings.Contains(r.Stderr, "HTTP 404") || !strings.Contains(r.Stdout, `"error":"not_found"`) {
		t.Errorf("404: exit %d\nstdout %s\nstderr %s", r.Code, r.Stdout, r.Stderr)
	}
	if r := e.run("api", "-X", "DELETE", "--jq", ".x", idp.API+"/me"); r.Code != 1 || !strings.Contains(r.Stderr, "HTTP 405") || !strings.Contains(r.Stdout, "method_not_allowed") {
		t.Errorf("405: exit %d\nstdout %s\nstderr %s", r.Code, r.Stdout, r.Stderr)
	}
	if got := trail(apiRequests(t, idp, "")); len(got) != 2 || refreshes(t, idp) != 0 {
		t.Errorf("the API saw %q and %d refreshes, want 2 requests, no refresh", got, refreshes(t, idp))
	}

	// http elsewhere than loopback: refused before anything is sent. A
	// listener on this machine's own non-loopback address shows it.
	var hits atomic.Int32
	target := "http://example.invalid/x"
	if ip := outwardIP(); ip != "" {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err == nil {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
			srv.Listener.Close()
			srv.Listener = ln
			srv.Start()
			t.Cleanup(srv.Close)
			target = srv.URL + "/x"
		}
	}
	r = e.run("api", target)
	if r.Code != 2 || !strings.Contains(r.Stderr, "must use https") || hits.Load() != 0 {
		t.Errorf("api %s: exit %d, %d requests arrived\n%s", target, r.Code, hits.Load(), r.Stderr)
	}
}

// loggedIn is a new env of the test, logged in to idp with extra flags.
func loggedIn(t *testing.T, idp *IdP, extra ...string) *Env {
	t.Helper()
	e := newEnv(t)
	if r := e.login(idp, extra...); r.Code != 0 {
		t.Fatalf("login %q: exit %d\n%s\nbrowser: %s", extra, r.Code, r.Stderr, e.browserLog())
	}
	return e
}

// rawRun runs sesame as e.run does, for the leak check too, and returns
// stderr with its debug lines.
func (e *Env) rawRun(args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	cmd := exec.Command(sesameBin, args...)
	cmd.Env = e.environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	var ee *exec.ExitError
	if err := cmd.Run(); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run sesame %v: %v", args, err)
	}
	recordOutput(args, out.String(), errb.String())
	e.recordStored()
	return out.String(), errb.String(), code
}

// outwardIP is an IPv4 address of this machine that is not loopback, or "".
func outwardIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

// apiRequests are the API's requests whose path starts with prefix.
func apiRequests(t *testing.T, idp *IdP, prefix string) []Event {
	return slices.DeleteFunc(named(t, idp, "api.request"), func(ev Event) bool {
		p, _ := ev["path"].(string)
		return !strings.HasPrefix(p, prefix)
	})
}

// trail sums up requests as "STATUS [SCHEME ][ERROR]", e.g. "401 DPoP
// use_dpop_nonce".
func trail(evs []Event) []string { return summary(evs, "status", "scheme", "error") }

// summary sums up each event as the values it has of keys, in order.
func summary(evs []Event, keys ...string) []string {
	out := []string{}
	for _, ev := range evs {
		var vals []string
		for _, k := range keys {
			if v, ok := ev[k]; ok && v != nil {
				vals = append(vals, fmt.Sprint(v))
			}
		}
		out = append(out, strings.Join(vals, " "))
	}
	return out
}

// named are the provider's events whose names start with one of prefixes.
func named(t *testing.T, idp *IdP, prefixes ...string) []Event {
	t.Helper()
	var out []Event
	for _, ev := range idp.events(t) {
		if name, _ := ev["event"].(string); slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			out = append(out, ev)
		}
	}
	return out
}

// refreshes counts the provider's successful refresh grants.
func refreshes(t *testing.T, idp *IdP) int {
	n, _ := countEvents(t, idp)
	return n
}

// runJSON runs sesame, which must succeed, and decodes its output.
func runJSON(t *testing.T, e *Env, args ...string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(e.mustRun(args...).Stdout), &m); err != nil {
		t.Fatalf("sesame %q: %v", args, err)
	}
	return m
}

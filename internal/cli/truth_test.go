package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/testidp"
)

// What sesame reports is true: an ended grant, endpoint
// settings made after the login, a logout the provider did not hear of,
// and Ctrl-C.

// runCtx runs sesame in-process with ctx, as cmd/sesame does with its
// signal context.
func (h *harness) runCtx(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	h.t.Helper()
	var out, errb bytes.Buffer
	f := NewFactory(strings.NewReader(""), &out, &errb, func(k string) string { return h.env[k] })
	f.Browser = h.idp.Browser(testidp.Approve)
	f.Now = h.clock.Now
	if h.keychain != nil {
		f.Keychain = h.keychain
	}
	code = Run(ctx, f, args)
	return code, out.String(), errb.String()
}

// countingServer answers every request with status and body, and counts
// them.
func countingServer(t *testing.T, status int, body string) (string, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

func statusReport(t *testing.T, h *harness, args ...string) (int, StatusReport, []map[string]any) {
	t.Helper()
	code, out, errb := h.run(testidp.Approve, append([]string{"status", "--json"}, args...)...)
	var report StatusReport
	var raw struct{ Profiles []map[string]any }
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("status --json: %v %q %s", err, out, errb)
	}
	json.Unmarshal([]byte(out), &raw)
	return code, report, raw.Profiles
}

// TestEndedGrant: once the provider refuses the refresh token, token exits
// 4 at once (no request, nothing on stdout), status shows the login as
// ended with the provider's answer and exits 4, and logout removes it
// without asking the provider to revoke it again.
func TestEndedGrant(t *testing.T) {
	h := newHarness(t, testidp.Options{AccessTokenTTL: time.Minute})
	h.login()
	var revocations atomic.Int32
	h.idp.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/revoke") {
			revocations.Add(1)
		}
		return false
	})
	h.idp.RevokeAll()
	h.clock.Add(2 * time.Minute)

	code, out, errb := h.run(testidp.Approve, "token")
	if code != ExitLoginRequired || out != "" || !strings.Contains(errb, "no longer accepts the refresh token") {
		t.Fatalf("token when the grant ended: %d %q %q", code, out, errb)
	}
	grants := h.idp.Grants("refresh_token")
	for _, args := range [][]string{{"token"}, {"token", "--id-token"}, {"refresh"}, {"exec", "--", "true"}, {"userinfo"}} {
		code, out, errb := h.run(testidp.Approve, args...)
		if code != ExitLoginRequired || out != "" || !strings.Contains(errb, "has ended") || !strings.Contains(errb, "invalid_grant") || !strings.Contains(errb, "sesame login") {
			t.Errorf("%v after the end: %d %q %q", args, code, out, errb)
		}
	}
	if g := h.idp.Grants("refresh_token"); g != grants {
		t.Errorf("%d more refresh requests for an ended login", g-grants)
	}

	code, out, _ = h.run(testidp.Approve, "status")
	if code != ExitLoginRequired || !strings.Contains(out, "default (current)\n  ended: the provider refused the refresh token at ") || !strings.Contains(out, "(invalid_grant") {
		t.Errorf("status: %d\n%s", code, out)
	}
	code, report, _ := statusReport(t, h)
	if st := report.Profiles[0]; code != ExitLoginRequired || st.LoggedIn || !st.Ended || !strings.HasPrefix(st.EndedReason, "invalid_grant") || st.EndedAt == nil {
		t.Errorf("status --json: %d %+v", code, st)
	}

	code, _, errb = h.run(testidp.Approve, "logout")
	if code != 0 || strings.Contains(errb, "revoked at the provider") || revocations.Load() != 0 {
		t.Errorf("logout of an ended login: %d %q, %d revocation requests", code, errb, revocations.Load())
	}
	if code, out, _ := h.run(testidp.Approve, "status"); code != ExitLoginRequired || !strings.Contains(out, "not logged in") {
		t.Errorf("status after logout: %d %s", code, out)
	}
}

// TestStatusJSONShape: one object; every profile has the same fields
// whatever its state, and lists are never null.
func TestStatusJSONShape(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login("--profile", "gone")
	h.idp.RevokeAll()
	if code, _, _ := h.run(testidp.Approve, "refresh", "--profile", "gone"); code != ExitLoginRequired {
		t.Fatalf("refresh of a revoked grant: %d", code)
	}
	h.login("--profile", "out")
	h.run(testidp.Approve, "logout", "--profile", "out", "--no-revoke")
	h.login("--resource", "https://api.example.test")
	h.run(testidp.Approve, "token", "--resource", "https://api.example.test")

	code, report, raw := statusReport(t, h)
	if code != 0 || report.Current != "default" || len(raw) != 3 {
		t.Fatalf("status --json: %d %+v", code, report)
	}
	keys := slices.Sorted(maps.Keys(raw[0]))
	for _, p := range raw {
		if got := slices.Sorted(maps.Keys(p)); !slices.Equal(got, keys) {
			t.Errorf("profile %v has fields %v, profile %v has %v", p["profile"], got, raw[0]["profile"], keys)
		}
		for _, list := range []string{"scopes", "tokens"} {
			if _, ok := p[list].([]any); !ok {
				t.Errorf("profile %v: %s is %v, want a list", p["profile"], list, p[list])
			}
		}
	}
	for _, want := range []string{"profile", "current", "logged_in", "issuer", "subject", "expires_at", "has_refresh_token", "ended", "ended_reason", "error", "tokens", "check"} {
		if !slices.Contains(keys, want) {
			t.Errorf("no %q in %v", want, keys)
		}
	}
	byName := map[string]ProfileStatus{}
	for _, p := range report.Profiles {
		byName[p.Profile] = p
	}
	if d := byName["default"]; !d.LoggedIn || d.Ended || len(d.Tokens) != 1 || d.Tokens[0].ExpiresAt == nil || d.ExpiresAt == nil {
		t.Errorf("default: %+v", d)
	}
	if g := byName["gone"]; g.LoggedIn || !g.Ended || g.EndedReason == "" {
		t.Errorf("gone: %+v", g)
	}
	if o := byName["out"]; o.LoggedIn || o.Ended || o.ExpiresAt != nil || o.Check != nil {
		t.Errorf("out: %+v", o)
	}
}

// TestStatusCheck: --check asks the provider about the current profile:
// ok, a dead grant (exit 4, recorded), or no answer (exit 1).
func TestStatusCheck(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login()
	code, out, errb := h.run(testidp.Approve, "status", "--check")
	if code != 0 || !strings.Contains(out, "check:") || !strings.Contains(out, "ok (the provider answered a userinfo)") {
		t.Fatalf("status --check: %d %q %q", code, out, errb)
	}
	_, report, _ := statusReport(t, h, "--check")
	if c := report.Profiles[0].Check; c == nil || !c.OK || c.Method != "userinfo" || c.Error != "" {
		t.Errorf("check %+v", c)
	}

	dead, _ := countingServer(t, 503, `{}`)
	h.env["SESAME_USERINFO_URL"] = dead
	code, out, errb = h.run(testidp.Approve, "status", "--check")
	if code != ExitError || !strings.Contains(out, "check:") || !strings.Contains(out, "failed: the userinfo endpoint answered HTTP 503") ||
		!strings.Contains(errb, `sesame: could not check the login of profile "default" with the provider: the userinfo endpoint answered HTTP 503`) {
		t.Errorf("status --check without an answer: %d %q %q", code, out, errb)
	}
	delete(h.env, "SESAME_USERINFO_URL")

	h.idp.RevokeAll()
	if code, out, _ := h.run(testidp.Approve, "status"); code != 0 || !strings.Contains(out, "expires:") {
		t.Errorf("status without --check asks nobody: %d %s", code, out)
	}
	code, out, errb = h.run(testidp.Approve, "status", "--check")
	if code != ExitLoginRequired || !strings.Contains(out, "ended: the provider refused the refresh token") || !strings.Contains(errb, "no longer accepts the refresh token") {
		t.Errorf("status --check of a revoked grant: %d %q %q", code, out, errb)
	}
	if code, out, _ := h.run(testidp.Approve, "status"); code != ExitLoginRequired || !strings.Contains(out, "ended:") {
		t.Errorf("status after the check: %d %s", code, out)
	}
}

// TestLateUserinfoURL: SESAME_USERINFO_URL set after the login is where
// userinfo goes, with the stored access token.
func TestLateUserinfoURL(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login()
	_, tok, _ := h.run(testidp.Approve, "token")
	var got string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Get("Authorization")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"sub":"alice","source":"late"}`)
	}))
	t.Cleanup(srv.Close)
	h.env["SESAME_USERINFO_URL"] = srv.URL + "/me"
	code, out, errb := h.run(testidp.Approve, "userinfo")
	mu.Lock()
	defer mu.Unlock()
	if code != 0 || !strings.Contains(out, `"source": "late"`) || got != "Bearer "+strings.TrimSpace(tok) {
		t.Fatalf("userinfo with a late SESAME_USERINFO_URL: %d %q %q, authorization %q", code, out, errb, got)
	}
}

// TestLogoutWhenRevocationFails: the tokens go, one line names the
// provider's answer and says the grant may stay active, exit 3. A provider
// that wants the client in HTTP Basic (the default of RFC 8414) gets it.
func TestLogoutWhenRevocationFails(t *testing.T) {
	for _, tt := range []struct {
		name, body, want string
		status           int
	}{
		{"refused", `{"error":"invalid_client","error_description":"client authentication failed"}`, "the provider answered invalid_client (client authentication failed)", 401},
		{"down", `<html>down</html>`, "HTTP 503", 503},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testidp.Options{})
			h.login()
			u, n := countingServer(t, tt.status, tt.body)
			h.env["SESAME_REVOCATION_URL"] = u
			code, out, errb := h.run(testidp.Approve, "logout")
			first, _, _ := strings.Cut(errb, "\n")
			if code != ExitNotRevoked || out != "" || !strings.Contains(first, `removed the tokens of profile "default" from this machine`) ||
				!strings.Contains(first, tt.want) || !strings.Contains(first, "may stay active there until it expires") {
				t.Fatalf("logout: %d %q %q", code, out, errb)
			}
			if want := map[int]int32{401: 2, 503: 1}[tt.status]; n.Load() != want {
				t.Errorf("%d revocation requests, want %d", n.Load(), want)
			}
			if code, _, _ := h.run(testidp.Approve, "token"); code != ExitLoginRequired {
				t.Errorf("token after logout: %d", code)
			}
		})
	}
	t.Run("Basic accepted", func(t *testing.T) {
		h := newHarness(t, testidp.Options{})
		h.login()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if user, _, ok := r.BasicAuth(); ok && user == h.idp.ClientID() {
				return
			}
			w.WriteHeader(401)
		}))
		t.Cleanup(srv.Close)
		h.env["SESAME_REVOCATION_URL"] = srv.URL
		if code, _, errb := h.run(testidp.Approve, "logout"); code != 0 || !strings.Contains(errb, "revoked at the provider") {
			t.Errorf("logout: %d %q", code, errb)
		}
	})
	t.Run("revoke stays strict", func(t *testing.T) {
		h := newHarness(t, testidp.Options{})
		h.login()
		u, _ := countingServer(t, 503, `{}`)
		h.env["SESAME_REVOCATION_URL"] = u
		if code, _, _ := h.run(testidp.Approve, "revoke"); code != ExitError {
			t.Errorf("revoke: %d", code)
		}
		if code, _, _ := h.run(testidp.Approve, "token"); code != 0 {
			t.Errorf("token after a failed revoke: %d", code)
		}
	})
}

// TestRevokeAccessTokenPromisesNoRefresh: the message does not claim that
// the next use refreshes.
func TestRevokeAccessTokenPromisesNoRefresh(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login()
	code, _, errb := h.run(testidp.Approve, "revoke", "--access-token")
	if code != 0 || strings.Contains(errb, "the next use refreshes it") || !strings.Contains(errb, "ended the whole grant") {
		t.Errorf("revoke --access-token: %d %q", code, errb)
	}
}

// deviceServer is a device authorization endpoint and a token endpoint
// that answers authorization_pending for ever.
func deviceServer(t *testing.T) string {
	mux := http.NewServeMux()
	mux.HandleFunc("/device", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"device_code":"dc","user_code":"ABCD-EFGH","verification_uri":"https://idp.example/device","expires_in":600,"interval":1}`)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		io.WriteString(w, `{"error":"authorization_pending"}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestInterrupts: Ctrl-C (the context cancelled) exits 130 with
// "sesame: interrupted" during a device login, a refresh and a lock wait,
// and changes nothing.
func TestInterrupts(t *testing.T) {
	interrupted := func(t *testing.T, code int, out, errb string) {
		t.Helper()
		if code != ExitInterrupted || out != "" || !strings.HasSuffix(errb, "sesame: interrupted\n") {
			t.Errorf("exit %d stdout %q stderr %q", code, out, errb)
		}
	}
	t.Run("device login", func(t *testing.T) {
		h := newHarness(t, testidp.Options{})
		dev := deviceServer(t)
		h.env["SESAME_DEVICE_URL"], h.env["SESAME_TOKEN_URL"] = dev+"/device", dev+"/token"
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(1500*time.Millisecond, cancel)
		code, out, errb := h.runCtx(ctx, "login", "--device", "--issuer", h.idp.Issuer, "--client-id", h.idp.ClientID())
		interrupted(t, code, out, errb)
		if !strings.Contains(errb, "ABCD-EFGH") {
			t.Errorf("the code was not shown: %q", errb)
		}
		if code, _, _ := h.run(testidp.Approve, "token"); code != ExitLoginRequired {
			t.Errorf("token after an interrupted login: %d", code)
		}
	})
	t.Run("refresh", func(t *testing.T) {
		h := newHarness(t, testidp.Options{})
		h.login()
		h.idp.Delay(time.Minute)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		start := time.Now()
		code, out, errb := h.runCtx(ctx, "refresh")
		interrupted(t, code, out, errb)
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("took %s", took)
		}
		h.idp.Delay(0)
		if code, _, errb := h.run(testidp.Approve, "token"); code != 0 {
			t.Errorf("token after an interrupted refresh: %d %s", code, errb)
		}
	})
	t.Run("waiting for the lock", func(t *testing.T) {
		h := newHarness(t, testidp.Options{})
		h.login()
		h.idp.Delay(time.Minute)
		first, cancelFirst := context.WithCancel(context.Background())
		defer cancelFirst()
		holding := make(chan struct{})
		go func() {
			defer close(holding)
			h.runCtx(first, "refresh") // holds the lock while the provider is slow
		}()
		time.Sleep(300 * time.Millisecond)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		code, out, errb := h.runCtx(ctx, "token", "--min-ttl", "2h")
		interrupted(t, code, out, errb)
		cancelFirst()
		<-holding
	})
}

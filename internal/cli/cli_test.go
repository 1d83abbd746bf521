package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/sesame-cli/sesame/internal/store"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// clock is a settable, race-safe fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type harness struct {
	t        *testing.T
	keychain func() store.Store // nil: go-keyring's mock
	// storeOverride replaces the store after login (hostile cases).
	storeOverride func() store.Store
	idp           *testidp.IdP
	env           map[string]string
	clock         *clock
	home          string
}

func newHarness(t *testing.T, o testidp.Options) *harness {
	keyring.MockInit()
	return newIsolatedHarness(t, o)
}

// newIsolatedHarness touches no process-wide state (go-keyring's mock is
// one): its tests may run in parallel when they bring their own store.
func newIsolatedHarness(t *testing.T, o testidp.Options) *harness {
	c := &clock{now: time.Now()}
	o.Now = c.Now
	home := t.TempDir()
	return &harness{t: t, idp: testidp.New(t, o), clock: c, home: home, env: map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_STATE_HOME": filepath.Join(home, "state"),
		"DISPLAY": ":0", // a desktop: the browser stub plays the user
	}}
}

// run executes sesame in-process; the browser stub plays the user.
func (h *harness) run(action testidp.Action, args ...string) (code int, stdout, stderr string) {
	h.t.Helper()
	return h.runWithStdin(action, "", args...)
}

func (h *harness) runWithStdin(action testidp.Action, stdin string, args ...string) (code int, stdout, stderr string) {
	h.t.Helper()
	var out, errb bytes.Buffer
	f := NewFactory(strings.NewReader(stdin), &out, &errb, func(k string) string { return h.env[k] })
	f.Browser = h.idp.Browser(action)
	f.Now = h.clock.Now
	if h.keychain != nil {
		f.Keychain = h.keychain
	}
	code = Run(context.Background(), f, args)
	return code, out.String(), errb.String()
}

func (h *harness) login(extra ...string) {
	h.t.Helper()
	args := append([]string{"login", "--issuer", h.idp.Issuer, "--client-id", h.idp.ClientID(), "--timeout", "5s"}, extra...)
	if code, out, errb := h.run(testidp.Approve, args...); code != 0 || out != "" {
		h.t.Fatalf("login: exit %d stdout %q\n%s", code, out, errb)
	}
}

func (h *harness) stored(profile string) string {
	v, err := keyring.Get("sesame", profile)
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		h.t.Fatal(err)
	}
	return v
}

func TestLoginTokenStatusLogout(t *testing.T) {
	h := newHarness(t, testidp.Options{IssParameter: true})
	h.login()

	code, tok, _ := h.run(testidp.Approve, "token")
	if code != 0 || !strings.HasSuffix(tok, "\n") || strings.Count(tok, "\n") != 1 {
		t.Fatalf("token: %d %q", code, tok)
	}
	_, js, _ := h.run(testidp.Approve, "token", "--json")
	var tj map[string]string
	if err := json.Unmarshal([]byte(js), &tj); err != nil || tj["access_token"] != strings.TrimSpace(tok) || tj["token_type"] != "Bearer" {
		t.Errorf("token --json: %v %q", err, js)
	}
	if _, err := time.Parse(time.RFC3339, tj["expires_at"]); err != nil {
		t.Errorf("expires_at %q", tj["expires_at"])
	}

	code, st, _ := h.run(testidp.Approve, "status", "--json")
	var report StatusReport
	if err := json.Unmarshal([]byte(st), &report); err != nil || code != 0 || report.Current != "default" {
		t.Fatalf("status: %d %v %q", code, err, st)
	}
	all := report.Profiles
	if len(all) != 1 || !all[0].LoggedIn || all[0].Subject != testidp.Subject || all[0].Email != testidp.Email || all[0].Profile != "default" {
		t.Errorf("status %+v", all)
	}

	cfg, err := os.ReadFile(filepath.Join(h.home, "config", "sesame", "config.yaml"))
	if err != nil || !strings.Contains(string(cfg), h.idp.Issuer) || strings.Contains(string(cfg), strings.TrimSpace(tok)) {
		t.Errorf("saved profile: %v\n%s", err, cfg)
	}

	if code, _, _ := h.run(testidp.Approve, "logout"); code != 0 {
		t.Fatal("logout failed")
	}
	code, out, errb := h.run(testidp.Approve, "token")
	if code != ExitLoginRequired || out != "" || !strings.Contains(errb, "run `sesame login`") {
		t.Errorf("token after logout: %d %q %q", code, out, errb)
	}
	if code, _, _ := h.run(testidp.Approve, "status"); code != ExitLoginRequired {
		t.Errorf("status after logout: %d", code)
	}
}

func TestTokenRefreshesNearExpiryAndRotates(t *testing.T) {
	h := newHarness(t, testidp.Options{AccessTokenTTL: 10 * time.Minute, NoRefreshIDToken: true})
	h.login()
	_, first, _ := h.run(testidp.Approve, "token")
	_, again, _ := h.run(testidp.Approve, "token")
	if first != again || h.idp.Grants("refresh_token") != 0 {
		t.Fatal("a valid token was refreshed")
	}
	before := h.stored("default")
	h.clock.Add(9*time.Minute + 30*time.Second) // inside the 60s default skew
	code, second, errb := h.run(testidp.Approve, "token")
	if code != 0 || second == first {
		t.Fatalf("no refresh: %d %s", code, errb)
	}
	if h.idp.Grants("refresh_token") != 1 || h.stored("default") == before {
		t.Error("refresh not stored")
	}
	// The ID token was not re-issued: the old one and the identity stay.
	_, idt, _ := h.run(testidp.Approve, "token", "--id-token")
	if strings.TrimSpace(idt) == "" {
		t.Error("ID token lost on a refresh without one")
	}
	// The next refresh presents the rotated token; reuse would revoke the grant.
	h.clock.Add(10 * time.Minute)
	if code, _, errb := h.run(testidp.Approve, "token"); code != 0 || h.idp.ReuseDetected() != 0 {
		t.Fatalf("second refresh: %d reuse=%d %s", code, h.idp.ReuseDetected(), errb)
	}
}

// A refresh that fails on the way keeps the tokens; one the provider
// refuses (invalid_grant) records the end of the login (truth_test.go).
func TestRefreshFailuresKeepTokens(t *testing.T) {
	tests := []struct {
		name   string
		fail   func(*testidp.IdP)
		code   int
		stderr string
	}{
		{"server error", func(p *testidp.IdP) { p.FailNext(1, 500, "text/html", "<html>") }, ExitError, "HTTP 500"},
		{"not json", func(p *testidp.IdP) { p.FailNext(1, 200, "application/json", "{") }, ExitError, "unusable response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testidp.Options{AccessTokenTTL: time.Minute})
			h.login()
			before := h.stored("default")
			tt.fail(h.idp)
			h.clock.Add(2 * time.Minute)
			code, out, errb := h.run(testidp.Approve, "token")
			if code != tt.code || out != "" || !strings.Contains(errb, tt.stderr) {
				t.Errorf("exit %d stdout %q stderr %q", code, out, errb)
			}
			if h.stored("default") != before {
				t.Error("stored tokens changed")
			}
		})
	}
}

func TestFailedLoginKeepsTokens(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login()
	before := h.stored("default")
	for _, a := range []testidp.Action{testidp.Deny, testidp.BadCode} {
		code, out, errb := h.run(a, "login", "--timeout", "5s")
		if code != ExitError || out != "" || !strings.Contains(errb, "sesame: login failed") && !strings.Contains(errb, "invalid_grant") {
			t.Errorf("action %v: %d %q %q", a, code, out, errb)
		}
		if h.stored("default") != before {
			t.Errorf("action %v changed the stored tokens", a)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	for _, args := range [][]string{
		{"nope"},
		{"token", "--bogus"},
		{"login", "--issuer", h.idp.Issuer, "--client-id", "x", "--param", "novalue"},
		{"login", "--issuer", h.idp.Issuer, "--client-id", "x", "--param", "state=mine"},
		{"login", "--issuer", h.idp.Issuer},
		{"login", "--client-id", "x"},
		{"login", "--issuer", "http://idp.example", "--client-id", "x"},
	} {
		if code, out, errb := h.run(testidp.Approve, args...); code != ExitUsage || out != "" {
			t.Errorf("%v: exit %d stdout %q stderr %q", args, code, out, errb)
		}
	}
}

func TestUnavailableKeychainFailsBeforeBrowser(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	keyring.MockInitWithError(errors.New("org.freedesktop.secrets was not provided by any .service files"))
	var out, errb bytes.Buffer
	f := NewFactory(strings.NewReader(""), &out, &errb, func(k string) string { return h.env[k] })
	b := h.idp.Browser(testidp.Approve)
	f.Browser = b
	code := Run(context.Background(), f, []string{"login", "--issuer", h.idp.Issuer, "--client-id", h.idp.ClientID()})
	if code != ExitError || !strings.Contains(errb.String(), "--insecure-storage") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if b.URL() != "" {
		t.Error("the browser was opened although the tokens could not be stored")
	}
}

func TestInsecureStorageIsExplicitAndWarned(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login("--insecure-storage")
	code, tok, errb := h.run(testidp.Approve, "token")
	if code != 0 || !strings.Contains(errb, "plain file") {
		t.Fatalf("token: %d %s", code, errb)
	}
	if h.stored("default") != "" {
		t.Error("tokens also went to the keychain")
	}
	var files []string
	filepath.Walk(filepath.Join(h.home, "state", "sesame", "tokens"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files = append(files, p)
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v", p, fi.Mode().Perm())
			}
			if b, _ := os.ReadFile(p); !bytes.Contains(b, []byte(strings.TrimSpace(tok))) {
				t.Errorf("%s lacks the token", p)
			}
		}
		return nil
	})
	if len(files) != 1 {
		t.Errorf("token files: %v", files)
	}
}

func TestProfilesAreSeparate(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login("--profile", "work")
	if code, _, _ := h.run(testidp.Approve, "token"); code != ExitLoginRequired {
		t.Error("default profile has tokens")
	}
	h.env["SESAME_PROFILE"] = "work"
	if code, _, errb := h.run(testidp.Approve, "token"); code != 0 {
		t.Errorf("SESAME_PROFILE=work: %d %s", code, errb)
	}
	if code, _, errb := h.run(testidp.Approve, "token", "--profile", "default"); code != ExitLoginRequired || !strings.Contains(errb, "--profile default") && !strings.Contains(errb, "sesame login") {
		t.Errorf("--profile overrides env: %d %s", code, errb)
	}
}

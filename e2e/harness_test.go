// Package e2e runs the sesame binary against real parts: oidc-provider on
// loopback, the Secret Service of gnome-keyring on a private D-Bus session,
// and Debian's chromium driven by playwright-core standing in for the user.
// scripts/test sets all of that up; without SESAME_E2E=1 the tests skip.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/sesame-cli/sesame/internal/store"
)

var (
	repoRoot  string
	sesameBin string
	brokerBin string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Dir(filepath.Dir(file))
	code := m.Run()
	if !checkLeaks() && code == 0 {
		code = 1
	}
	if sesameBin != "" {
		os.RemoveAll(filepath.Dir(sesameBin))
	}
	os.Exit(code)
}

// requireE2E skips unless the real parts are set up, and fails loudly if
// they were promised (SESAME_E2E=1) but are missing.
func requireE2E(t *testing.T) {
	t.Helper()
	if os.Getenv("SESAME_E2E") != "1" {
		t.Skip("end-to-end: set SESAME_E2E=1 (scripts/test does, with a real IdP, keychain and browser)")
	}
	for _, need := range []string{"node", chromiumPath()} {
		if _, err := exec.LookPath(need); err != nil {
			t.Fatalf("end-to-end needs %s: %v", need, err)
		}
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("end-to-end needs a D-Bus session with a Secret Service (run under scripts/test)")
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "e2e", "node_modules")); err != nil {
		t.Fatal("end-to-end needs `npm ci --prefix e2e`")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sesame-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		sesameBin, brokerBin = filepath.Join(dir, "sesame"), filepath.Join(dir, "sesame-broker")
		build := exec.Command("go", "build", "-o", dir, "./cmd/sesame", "./cmd/sesame-broker")
		build.Dir = repoRoot
		out, err := build.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

func chromiumPath() string {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// IdP is a running oidc-provider (e2e/idp/server.js).
type IdP struct {
	Issuer       string `json:"issuer"`
	Port         int    `json:"port"`
	SecretClient string `json:"confidential_client_id"`
	Secret       string `json:"confidential_client_secret"`
	API          string `json:"api"`
	Events       string `json:"-"`
	// Secrets is its --secrets file: every secret it issued or received.
	Secrets string `json:"-"`

	mu          sync.Mutex
	secretsRead int64                // how much of Secrets issued has read
	all         secretSet            // what it has read, under leaks' lock
	byClient    map[string]secretSet // the same by client, under leaks' lock
}

// startIdP starts a fresh provider for one test with the given flags.
func startIdP(t *testing.T, args ...string) *IdP {
	t.Helper()
	dir := t.TempDir()
	idp := &IdP{Events: filepath.Join(dir, "events.jsonl"), Secrets: filepath.Join(dir, "secrets.jsonl"),
		all: secretSet{}, byClient: map[string]secretSet{}}
	// Runs after the provider has stopped (cleanups run last first): all
	// it recorded goes to the leak checks, before its directory goes.
	t.Cleanup(func() {
		idp.issued(t)
		leaks.Lock()
		delete(leaks.live, idp)
		leaks.Unlock()
	})
	leaks.Lock()
	leaks.live[idp] = true
	leaks.Unlock()
	cmd := exec.Command("node", append([]string{filepath.Join(repoRoot, "e2e", "idp", "server.js"),
		"--events", idp.Events, "--secrets", idp.Secrets}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("IdP log:\n%s", logs.String())
		}
	})
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
	}()
	select {
	case l, ok := <-line:
		if !ok {
			t.Fatalf("IdP exited before it was ready:\n%s", logs.String())
		}
		if err := json.Unmarshal([]byte(l), idp); err != nil {
			t.Fatalf("IdP ready line %q: %v", l, err)
		}
		recordSecret("client secret", idp.Secret)
		return idp
	case <-time.After(30 * time.Second):
		t.Fatalf("IdP not ready after 30s:\n%s", logs.String())
	}
	return nil
}

// Event is one line of the IdP's events file.
type Event map[string]any

func (p *IdP) events(t *testing.T) []Event {
	t.Helper()
	b, err := os.ReadFile(p.Events)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var evs []Event
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var e Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("event %q: %v", l, err)
		}
		evs = append(evs, e)
	}
	return evs
}

// Env is one user's machine: a home with its own XDG dirs and a browser
// stand-in that acts as told.
type Env struct {
	t          *testing.T
	Home       string
	Profile    string
	Action     string // what the browser stand-in does: approve, deny, wrong-state, bad-code
	NoKeychain bool   // run without a D-Bus session, as on a headless server
	User       string // who signs in: alice (default) or bob
	NoBrowser  bool   // no $BROWSER and no display: a headless machine
	BrowserLog string
}

func newEnv(t *testing.T) *Env {
	home := t.TempDir()
	profile := "e2e-" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	t.Cleanup(func() { keyring.Delete("sesame", profile) })
	e := &Env{t: t, Home: home, Profile: profile, Action: "approve", User: "alice", BrowserLog: filepath.Join(home, "browser.log")}
	t.Cleanup(e.checkFiles)
	return e
}

func (e *Env) environ() []string {
	bus := "DBUS_SESSION_BUS_ADDRESS=" + os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if e.NoKeychain {
		bus = "DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(e.Home, "no-bus")
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + e.Home,
		"XDG_CONFIG_HOME=" + filepath.Join(e.Home, ".config"),
		"XDG_STATE_HOME=" + filepath.Join(e.Home, ".local", "state"),
		"XDG_CACHE_HOME=" + filepath.Join(e.Home, ".cache"),
		"XDG_DATA_HOME=" + filepath.Join(e.Home, ".local", "share"),
		bus,
		"SESAME_PROFILE=" + e.Profile,
		"SESAME_E2E_BROWSER_ACTION=" + e.Action,
		"SESAME_E2E_USER=" + e.User,
		"SESAME_E2E_PASSWORD=" + map[string]string{"alice": "wonderland", "bob": "builder"}[e.User],
		"SESAME_E2E_BROWSER_LOG=" + e.BrowserLog,
		"CHROMIUM_PATH=" + chromiumPath(),
		"SESAME_VERBOSE=1", // see leaks_test.go
	}
	if !e.NoBrowser {
		// $BROWSER is how the stand-in is found, which also shows that
		// sesame honours it.
		env = append(env, "BROWSER="+filepath.Join(repoRoot, "e2e", "browser", "xdg-open"))
	}
	return env
}

// Result is one finished sesame run.
type Result struct {
	Code           int
	Stdout, Stderr string
	Took           time.Duration
}

func (e *Env) run(args ...string) Result {
	e.t.Helper()
	return e.runStdin("", args...)
}

func (e *Env) runStdin(stdin string, args ...string) Result {
	e.t.Helper()
	cmd := exec.Command(sesameBin, args...)
	cmd.Env = e.environ()
	if plainToken(args) {
		// The plain `sesame token` answers before the command tree
		// (tokencmd.Fast) unless --verbose is on, so these runs go without
		// it: every such call in the suite takes the fast path while its
		// token is fresh and the full command otherwise, and both must
		// end where the tests expect.
		cmd.Env = slices.DeleteFunc(cmd.Env, func(s string) bool { return s == "SESAME_VERBOSE=1" })
		plainTokenRuns.Add(1)
	}
	cmd.Stdin = strings.NewReader(stdin)
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
	e.recordStored()
	e.recordCodes()
	return r
}

// plainTokenRuns counts the runs plainToken selected (reported with the
// leak check).
var plainTokenRuns atomic.Int64

// plainToken reports whether args are the invocation tokencmd.Fast answers:
// `token`, alone or with one --profile.
func plainToken(args []string) bool {
	switch {
	case len(args) == 0 || args[0] != "token":
		return false
	case len(args) == 1:
		return true
	case len(args) == 2:
		return strings.HasPrefix(args[1], "--profile=")
	case len(args) == 3:
		return args[1] == "--profile" || args[1] == "-p"
	}
	return false
}

// mustRun runs sesame and fails the test unless it exits 0.
func (e *Env) mustRun(args ...string) Result {
	e.t.Helper()
	r := e.run(args...)
	if r.Code != 0 {
		e.t.Fatalf("sesame %s: exit %d\nstdout: %s\nstderr: %s\nbrowser: %s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr, e.browserLog())
	}
	return r
}

func (e *Env) browserLog() string {
	b, _ := os.ReadFile(e.BrowserLog)
	return string(b)
}

// browserDone waits for the stand-in's final line and returns it.
func (e *Env) browserDone() map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range strings.Split(e.browserLog(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && (m["event"] == "done" || m["event"] == "error") {
				return m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("browser stand-in did not finish:\n%s", e.browserLog())
	return nil
}

// stored is the raw keychain entry of the env's profile ("" when absent).
func (e *Env) stored() string {
	e.t.Helper()
	v, err := keyring.Get("sesame", e.Profile)
	if errors.Is(err, keyring.ErrNotFound) {
		return ""
	}
	if err != nil {
		e.t.Fatalf("read the keychain: %v", err)
	}
	return v
}

// decoded is the env's stored token set as sesame reads it.
func (e *Env) decoded() []byte {
	e.t.Helper()
	b, err := store.NewKeychain(store.KeychainOptions{}).Get(e.Profile)
	if err != nil {
		e.t.Fatalf("read the keychain: %v", err)
	}
	return b
}

func (e *Env) login(idp *IdP, extra ...string) Result {
	e.t.Helper()
	os.Remove(e.BrowserLog)
	return e.run(append([]string{"login", "--issuer", idp.Issuer, "--client-id", "sesame-cli", "--timeout", "60s"}, extra...)...)
}

// userinfo calls the IdP's userinfo endpoint with an access token.
func userinfo(t *testing.T, idp *IdP, token string) (int, map[string]any) {
	t.Helper()
	var md struct {
		Userinfo string `json:"userinfo_endpoint"`
	}
	getJSON(t, strings.TrimSuffix(idp.Issuer, "/")+"/.well-known/openid-configuration", &md)
	req, _ := http.NewRequest(http.MethodGet, md.Userinfo, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// httpClient is how tests speak HTTP themselves: a listener that accepts
// and never answers fails the test in seconds, not at go test's timeout.
var httpClient = &http.Client{Timeout: 30 * time.Second}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

// filesContaining lists files under dir whose bytes contain secret.
func filesContaining(t *testing.T, dir, secret string) []string {
	t.Helper()
	var hits []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(secret)) {
			hits = append(hits, p)
		}
		return nil
	})
	return hits
}

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/store"
	"github.com/sesame-cli/sesame/internal/testidp"
)

func (h *harness) configPath() string {
	return filepath.Join(h.home, "config", "sesame", "config.yaml")
}

// An unknown --profile or SESAME_PROFILE is a usage error (exit 2) that
// names the profiles there are, for every command that uses a profile;
// before, token and status took it for a profile that is not logged in
// (exit 4) and profile use/show for an error (exit 1).
func TestUnknownProfileIsAUsageError(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login()
	if code, _, errb := h.run(testidp.Approve, "init", h.idp.Issuer, "--name", "work", "--client-id", "x"); code != 0 {
		t.Fatalf("init: %d %s", code, errb)
	}
	for _, args := range [][]string{
		{"token", "--profile", "wrok"}, {"status", "--profile", "wrok"}, {"userinfo", "-p", "wrok"},
		{"logout", "--profile", "wrok"}, {"refresh", "--profile", "wrok"}, {"exec", "--profile", "wrok", "--", "true"},
		{"profile", "show", "--profile", "wrok"}, {"profile", "show", "wrok"}, {"profile", "use", "wrok"}, {"profile", "remove", "wrok"},
	} {
		code, out, errb := h.run(testidp.Approve, args...)
		if code != ExitUsage || out != "" || !strings.Contains(errb, `no profile "wrok"`) ||
			!strings.Contains(errb, "known profiles: default, work") || !strings.Contains(errb, "sesame init ISSUER --name wrok") {
			t.Errorf("%v: exit %d stdout %q\n%s", args, code, out, errb)
		}
	}
	h.env["SESAME_PROFILE"] = "wrok"
	code, _, errb := h.run(testidp.Approve, "token")
	if code != ExitUsage || !strings.Contains(errb, `no profile "wrok" (SESAME_PROFILE)`) {
		t.Errorf("SESAME_PROFILE: %d %s", code, errb)
	}
	// login may create it.
	if code, _, errb := h.run(testidp.Approve, "login", "--timeout", "5s", "--issuer", h.idp.Issuer, "--client-id", h.idp.ClientID()); code != 0 {
		t.Fatalf("login creating wrok: %d %s", code, errb)
	}
	if code, _, errb := h.run(testidp.Approve, "token"); code != 0 {
		t.Errorf("token after login created the profile: %d %s", code, errb)
	}
	// A current profile the file no longer has is unknown too.
	delete(h.env, "SESAME_PROFILE")
	if err := config.SetCurrent(h.configPath(), "gone"); err != nil {
		t.Fatal(err)
	}
	if code, _, errb := h.run(testidp.Approve, "token"); code != ExitUsage || !strings.Contains(errb, `no profile "gone" (the file's current profile)`) {
		t.Errorf("current names a missing profile: %d %s", code, errb)
	}
}

// "default" needs no entry: SESAME_* variables alone log in, and the
// commands after the login work, with no config file at all.
func TestDefaultProfileWorksWithoutAFile(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.env["SESAME_ISSUER"], h.env["SESAME_CLIENT_ID"] = h.idp.Issuer, h.idp.ClientID()
	if code, _, errb := h.run(testidp.Approve, "status"); code != ExitLoginRequired {
		t.Errorf("status before login: %d %s", code, errb)
	}
	if code, _, errb := h.run(testidp.Approve, "login", "--timeout", "5s"); code != 0 {
		t.Fatalf("login: %d %s", code, errb)
	}
	if code, out, errb := h.run(testidp.Approve, "token"); code != 0 || out == "" {
		t.Errorf("token: %d %s", code, errb)
	}
	if _, err := os.Stat(h.configPath()); !os.IsNotExist(err) {
		t.Errorf("a login from the environment wrote a config file (%v)", err)
	}
	// A new profile from the environment alone is written, so that the
	// next command finds it.
	h.env["SESAME_PROFILE"] = "ci"
	if code, _, errb := h.run(testidp.Approve, "login", "--timeout", "5s"); code != 0 {
		t.Fatalf("login ci: %d %s", code, errb)
	}
	if code, _, errb := h.run(testidp.Approve, "token"); code != 0 {
		t.Errorf("token ci: %d %s", code, errb)
	}
}

// A --config (or SESAME_CONFIG) file that does not exist is an error
// (exit 2), except for login and init, which create it.
func TestMissingConfigFile(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	path := filepath.Join(h.home, "typo.yaml")
	for _, args := range [][]string{{"token", "--config", path}, {"status", "--config", path}, {"profile", "list", "--config", path}} {
		code, _, errb := h.run(testidp.Approve, args...)
		if code != ExitUsage || !strings.Contains(errb, "the config file "+path+" (--config) does not exist") {
			t.Errorf("%v: %d %s", args, code, errb)
		}
	}
	h.env["SESAME_CONFIG"] = path
	if code, _, errb := h.run(testidp.Approve, "status"); code != ExitUsage || !strings.Contains(errb, "(SESAME_CONFIG) does not exist") {
		t.Errorf("SESAME_CONFIG: %d %s", code, errb)
	}
	delete(h.env, "SESAME_CONFIG")
	if code, _, errb := h.run(testidp.Approve, "init", h.idp.Issuer, "--config", path, "--name", "a", "--client-id", "x"); code != 0 {
		t.Fatalf("init creates the file: %d %s", code, errb)
	}
	other := filepath.Join(h.home, "other.yaml")
	if code, _, errb := h.run(testidp.Approve, "login", "--config", other, "--timeout", "5s", "--issuer", h.idp.Issuer, "--client-id", h.idp.ClientID()); code != 0 {
		t.Fatalf("login creates the file: %d %s", code, errb)
	}
	if code, _, errb := h.run(testidp.Approve, "token", "--config", other); code != 0 {
		t.Errorf("token with the file login wrote: %d %s", code, errb)
	}
}

// init writes a profile without taking over as the current one, unless
// --use says so or there is no current profile yet, and says which is
// current afterwards.
func TestInitKeepsTheCurrentProfile(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	initAs := func(name string, extra ...string) string {
		t.Helper()
		code, _, errb := h.run(testidp.Approve, append([]string{"init", h.idp.Issuer, "--name", name, "--client-id", "x"}, extra...)...)
		if code != 0 {
			t.Fatalf("init %s: %d %s", name, code, errb)
		}
		return errb
	}
	current := func() string {
		cfg, err := config.Load(h.configPath(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return cfg.ProfileName("")
	}
	if errb := initAs("first"); current() != "first" || !strings.Contains(errb, `The current profile is "first".`) {
		t.Errorf("the first profile is not current (%s):\n%s", current(), errb)
	}
	if errb := initAs("second"); current() != "first" || !strings.Contains(errb, `The current profile is still "first"; `+"`sesame profile use second`") {
		t.Errorf("init changed the current profile to %s:\n%s", current(), errb)
	}
	if errb := initAs("third", "--use"); current() != "third" || !strings.Contains(errb, `The current profile is "third".`) {
		t.Errorf("--use: current %s:\n%s", current(), errb)
	}
	// A "default" profile without a current key is the current one too.
	h2 := newHarness(t, testidp.Options{})
	h2.run(testidp.Approve, "init", h2.idp.Issuer, "--client-id", "x")
	if code, _, errb := h2.run(testidp.Approve, "init", h2.idp.Issuer, "--name", "work", "--client-id", "x"); code != 0 || !strings.Contains(errb, `still "default"`) {
		t.Errorf("init after default: %d %s", code, errb)
	}
	if b, _ := os.ReadFile(h2.configPath()); strings.Contains(string(b), "current:") {
		t.Errorf("a current key was written:\n%s", b)
	}
}

// Two config files with a profile of the same name keep their logins
// apart: a login in one does not replace the other's, and a logout in one
// leaves the other's tokens where they were. The standard file keeps the
// bare names of the entries sesame wrote before.
func TestSameProfileNameInTwoFiles(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login() // the standard file's "default"
	std := h.stored("default")
	if std == "" {
		t.Fatal("the standard file's login is not under the bare name")
	}
	other := filepath.Join(h.home, "team.yaml")
	code, _, errb := h.run(testidp.Approve, "login", "--config", other, "--timeout", "5s", "--issuer", h.idp.Issuer, "--client-id", h.idp.ClientID())
	if code != 0 {
		t.Fatalf("login in the other file: %d %s", code, errb)
	}
	ns := session.Namespace(other, h.configPath())
	if ns == "" || h.stored(session.KeyFor(ns, "default")) == "" {
		t.Fatalf("the other file's login is not under its own key %q", session.KeyFor(ns, "default"))
	}
	if h.stored("default") != std {
		t.Fatal("a login in another file replaced the standard file's tokens")
	}
	if code, _, errb := h.run(testidp.Approve, "logout", "--config", other, "--no-revoke"); code != 0 {
		t.Fatalf("logout: %d %s", code, errb)
	}
	if h.stored("default") != std || h.stored(session.KeyFor(ns, "default")) != "" {
		t.Error("logout in one file touched the other's tokens, or left its own")
	}
	if code, _, errb := h.run(testidp.Approve, "token"); code != 0 {
		t.Errorf("token in the standard file after the other's logout: %d %s", code, errb)
	}
	// The lock files are apart too.
	locks, _ := filepath.Glob(filepath.Join(h.env["XDG_STATE_HOME"], "sesame", "locks", "*.lock"))
	if len(locks) != 2 {
		t.Errorf("lock files %v, want one per file", locks)
	}
}

// Wrong positional arguments name the command, what it takes and point to
// its own --help; cobra says "accepts 1 arg(s), received 0".
func TestArgumentErrorsPointToTheCommand(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"profile", "use"}, "sesame: profile use needs NAME\nRun 'sesame profile use --help' for usage.\n"},
		{[]string{"profile", "use", "a", "b"}, "sesame: profile use takes NAME, got 2 arguments: \"a\" \"b\"\nRun 'sesame profile use --help' for usage.\n"},
		{[]string{"token", "extra"}, "sesame: token takes no arguments, got \"extra\"\nRun 'sesame token --help' for usage.\n"},
		{[]string{"init"}, "sesame: init needs ISSUER\nRun 'sesame init --help' for usage.\n"},
		{[]string{"org-token"}, "sesame: org-token needs ORG_ID\nRun 'sesame org-token --help' for usage.\n"},
		{[]string{"claims", "a", "b"}, "sesame: claims takes [TOKEN | -], got 2 arguments: \"a\" \"b\"\nRun 'sesame claims --help' for usage.\n"},
		{[]string{"exec"}, "sesame: exec needs -- COMMAND [ARGS...]\nRun 'sesame exec --help' for usage.\n"},
		{[]string{"token", "--nope"}, "sesame: unknown flag: --nope\nRun 'sesame token --help' for usage.\n"},
	} {
		code, out, errb := h.run(testidp.Approve, tt.args...)
		if code != ExitUsage || out != "" || errb != tt.want {
			t.Errorf("%v: exit %d\ngot  %q\nwant %q", tt.args, code, errb, tt.want)
		}
	}
}

// The messages for a misconfigured provider or file: one line for what
// went wrong, one for what to do.
func TestConfigurationMessages(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"init", "idp.example.com"}, ExitUsage, `issuer: "idp.example.com" is not an absolute http(s) URL: did you mean https://idp.example.com?`},
		{[]string{"login", "--issuer", "http://idp.example.com/oidc", "--client-id", "x"}, ExitUsage, `did you mean https://idp.example.com/oidc?`},
		{[]string{"login", "--issuer", "localhost:8080", "--client-id", "x"}, ExitUsage, `did you mean http://localhost:8080?`},
	} {
		code, _, errb := h.run(testidp.Approve, tt.args...)
		if code != tt.code || !strings.Contains(errb, tt.want) {
			t.Errorf("%v: exit %d\n%s", tt.args, code, errb)
		}
	}

	if err := os.MkdirAll(filepath.Dir(h.configPath()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.configPath(), []byte("profiles:\n  work:\n    issuer: https://a: b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errb := h.run(testidp.Approve, "token")
	want := "sesame: " + h.configPath() + ":3:22: invalid YAML: mapping values are not allowed in this context\n  3 |     issuer: https://a: b\n"
	if code != ExitError || errb != want {
		t.Errorf("invalid YAML: exit %d\ngot  %q\nwant %q", code, errb, want)
	}
}

// A locked keychain says to unlock it, and does not offer a plain file: a
// user with a keychain is better off with the tokens in it.
func TestLockedKeychainSaysUnlock(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	locked := &store.LockedError{Err: keyringLocked{}}
	h.keychain = func() store.Store { return failingStore{locked} }
	code, _, errb := h.run(testidp.Approve, "token")
	if code != ExitError || !strings.Contains(errb, "the OS keychain is locked") || !strings.Contains(errb, "unlock") ||
		strings.Contains(errb, "insecure-storage") || strings.Contains(errb, "storage: file") || strings.Count(errb, "\n") != 1 {
		t.Errorf("exit %d\n%s", code, errb)
	}
}

type keyringLocked struct{}

func (keyringLocked) Error() string { return "Cannot get secret of a locked object" }

type failingStore struct{ err error }

func (s failingStore) Get(string) ([]byte, error) { return nil, s.err }
func (s failingStore) Set(string, []byte) error   { return s.err }
func (s failingStore) Delete(string) error        { return s.err }
func (s failingStore) Backend() string            { return "keychain" }

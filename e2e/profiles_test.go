package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/sesame-cli/sesame/internal/session"
)

// TestProfilesEndToEnd: `init` against the real provider keeps the
// current profile, an unknown profile exits 2 naming the known ones (by
// --profile and by SESAME_PROFILE, which the suite sets for every run),
// `login` creates the profile, and the same profile name in a second
// config file keeps a login of its own in the real keychain.
func TestProfilesEndToEnd(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)
	configPath := filepath.Join(e.Home, ".config", "sesame", "config.yaml")

	r := e.run("init", idp.Issuer, "--name", "first", "--client-id", "sesame-cli")
	if r.Code != 0 || !strings.Contains(r.Stderr, `The current profile is "first".`) {
		t.Fatalf("init first: exit %d\n%s", r.Code, r.Stderr)
	}
	r = e.run("init", idp.Issuer, "--name", "second", "--client-id", "sesame-cli", "--port", "8765")
	if r.Code != 0 || !strings.Contains(r.Stderr, `The current profile is still "first"; `+"`sesame profile use second`") ||
		!strings.Contains(r.Stderr, "In this shell SESAME_PROFILE="+e.Profile+" overrides it.") {
		t.Fatalf("init second: exit %d\n%s", r.Code, r.Stderr)
	}
	if b, err := os.ReadFile(configPath); err != nil || !strings.Contains(string(b), "current: first\n") {
		t.Errorf("init changed the current profile:\n%s", b)
	}

	// The suite's SESAME_PROFILE names a profile the file does not have yet.
	for _, args := range [][]string{{"status"}, {"token"}, {"token", "--profile", "frist"}, {"profile", "show", "frist"}} {
		r := e.run(args...)
		if r.Code != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, "known profiles: first, second") || strings.Count(r.Stderr, "\n") != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.Code, r.Stderr)
		}
	}
	if r := e.run("status"); !strings.Contains(r.Stderr, `no profile "`+e.Profile+`" (SESAME_PROFILE)`) {
		t.Errorf("status does not name SESAME_PROFILE:\n%s", r.Stderr)
	}

	// login creates it; the commands after it find it.
	if r := e.login(idp); r.Code != 0 {
		t.Fatalf("login: exit %d\n%s\nbrowser: %s", r.Code, r.Stderr, e.browserLog())
	}
	std := e.stored()
	if std == "" {
		t.Fatal("the standard config file's login is not under the bare profile name")
	}
	e.mustRun("token")

	// The same profile name in another file: its own entry and lock.
	other := filepath.Join(e.Home, "team.yaml")
	otherKey := session.KeyFor(session.Namespace(other, configPath), e.Profile)
	t.Cleanup(func() { keyring.Delete("sesame", otherKey) })
	if r := e.run("token", "--config", other); r.Code != 2 || !strings.Contains(r.Stderr, other+" (--config) does not exist") {
		t.Errorf("token with a missing --config: exit %d\n%s", r.Code, r.Stderr)
	}
	e.User = "bob"
	if r := e.run("login", "--config", other, "--issuer", idp.Issuer, "--client-id", "sesame-cli", "--timeout", "60s"); r.Code != 0 {
		t.Fatalf("login in the other file: exit %d\n%s\nbrowser: %s", r.Code, r.Stderr, e.browserLog())
	}
	if v, err := keyring.Get("sesame", otherKey); err != nil || v == std {
		t.Fatalf("the other file's login under %q: %v", otherKey, err)
	}
	if e.stored() != std {
		t.Fatal("a login in another file replaced the standard file's tokens")
	}
	e.mustRun("logout", "--config", other, "--no-revoke")
	if _, err := keyring.Get("sesame", otherKey); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("logout left the other file's entry: %v", err)
	}
	if e.stored() != std {
		t.Error("logout in another file touched the standard file's tokens")
	}
	e.mustRun("token")
}

// TestConfigMessagesEndToEnd: the messages for the usual mistakes, from
// the real binary against the real provider.
func TestConfigMessagesEndToEnd(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)

	// https to the provider, which serves plain HTTP on loopback.
	wrong := strings.Replace(idp.Issuer, "http://", "https://", 1)
	r := e.run("login", "--issuer", wrong, "--client-id", "sesame-cli", "--timeout", "10s")
	if r.Code != 1 || !strings.Contains(r.Stderr, "speaks plain HTTP, not HTTPS") || strings.Count(r.Stderr, "\n") != 2 {
		t.Errorf("https to an http provider: exit %d\n%s", r.Code, r.Stderr)
	}
	// No scheme at all.
	bare := strings.TrimPrefix(idp.Issuer, "http://")
	r = e.run("init", bare, "--client-id", "sesame-cli")
	if r.Code != 2 || !strings.Contains(r.Stderr, "did you mean "+idp.Issuer+"?") {
		t.Errorf("issuer without a scheme: exit %d\n%s", r.Code, r.Stderr)
	}
	// Nothing listens.
	r = e.run("doctor", "--issuer", "http://127.0.0.1:9")
	if r.Code == 0 {
		t.Errorf("doctor against a closed port: exit 0")
	}
	r = e.run("login", "--issuer", "http://127.0.0.1:9", "--client-id", "sesame-cli", "--timeout", "10s")
	if r.Code != 1 || !strings.Contains(r.Stderr, "connection refused") || strings.Count(r.Stderr, "http://127.0.0.1:9/.well-known") != 1 ||
		!strings.Contains(r.Stderr, "VPN") || !strings.Contains(r.Stderr, "sesame doctor --issuer http://127.0.0.1:9") {
		t.Errorf("unreachable provider: exit %d\n%s", r.Code, r.Stderr)
	}
	// A config file that is not YAML.
	path := filepath.Join(e.Home, ".config", "sesame", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("profiles:\n  work:\n\tissuer: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = e.run("status")
	if r.Code != 1 || r.Stderr != "sesame: "+path+":3:1: invalid YAML: a tab character; YAML indents with spaces only\n  3 | \tissuer: x\n" {
		t.Errorf("invalid YAML: exit %d\n%q", r.Code, r.Stderr)
	}
	// Arguments.
	if r := e.run("profile", "use"); r.Code != 2 || r.Stderr != "sesame: profile use needs NAME\nRun 'sesame profile use --help' for usage.\n" {
		t.Errorf("profile use: exit %d\n%q", r.Code, r.Stderr)
	}
}

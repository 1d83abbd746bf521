package tokencmd_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/sesame-cli/sesame/internal/cli"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/store"
	"github.com/sesame-cli/sesame/internal/tokencmd"
)

// Fast answers exactly what the full command answers, or leaves the
// invocation to it having written nothing.
func TestFastMatchesCommand(t *testing.T) {
	keyring.MockInit()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "") // go-keyring's mock, never the lean read of a real bus
	home := t.TempDir()
	env := map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_STATE_HOME": filepath.Join(home, "state"),
	}
	const issuer = "https://idp.example.com"
	cfg := "profiles:\n"
	for _, p := range []string{"default", "work", "due", "short", "none", "other"} {
		cfg += "  " + p + ":\n    issuer: " + issuer + "\n    client_id: cli\n"
	}
	dir := filepath.Join(home, "config", "sesame")
	os.MkdirAll(dir, 0o700)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	save := func(profile, client string, obtained, expiry time.Time) {
		s := &session.Session{Profile: profile, Store: store.NewKeychain(store.KeychainOptions{}), LockDir: t.TempDir()}
		tok := &session.Tokens{ClientID: client, Endpoints: provider.Endpoints{Issuer: issuer, Token: issuer + "/token"},
			AccessToken: "at-" + profile, TokenType: "Bearer", RefreshToken: "rt", ObtainedAt: obtained, Expiry: expiry}
		if err := s.SaveLogin(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	save("default", "cli", now, now.Add(time.Hour))
	save("work", "cli", now, now.Add(time.Hour))
	save("due", "cli", now.Add(-time.Hour), now.Add(30*time.Second))
	// 100 s tokens obtained 40 s ago: 60 s left, within the default 60 s
	// but not within half the lifetime (50 s): valid, as for the command.
	save("short", "cli", now.Add(-40*time.Second), now.Add(60*time.Second))
	save("other", "another-client", now, now.Add(time.Hour))

	getenv := func(k string) string { return env[k] }
	for _, tt := range []struct {
		args    []string
		env     map[string]string
		handled bool
	}{
		{args: []string{"token"}, handled: true},
		{args: []string{"token", "-p", "work"}, handled: true},
		{args: []string{"token", "--profile", "work"}, handled: true},
		{args: []string{"token", "--profile=work"}, handled: true},
		{args: []string{"token", "-p", "short"}, handled: true},
		{args: []string{"token"}, env: map[string]string{"SESAME_PROFILE": "work"}, handled: true},
		{args: []string{"token", "-p", "due"}},       // due: the command refreshes
		{args: []string{"token", "-p", "none"}},      // not logged in
		{args: []string{"token", "-p", "other"}},     // another client than the profile's
		{args: []string{"token", "-p", "missing"}},   // not in the file: usage error
		{args: []string{"token", "--json"}},          // other flags
		{args: []string{"token", "--min-ttl", "1s"}}, // ditto
		{args: []string{"token", "extra"}},
		{args: []string{"token", "-p"}},
		{args: []string{"--verbose", "token"}},
		{args: []string{"token"}, env: map[string]string{"SESAME_VERBOSE": "1"}},
		{args: []string{"status"}},
		{args: nil},
	} {
		name := strings.Join(tt.args, " ")
		for k, v := range tt.env {
			env[k] = v
		}
		var out, errb bytes.Buffer
		handled, code := tokencmd.Fast(tt.args, strings.NewReader(""), &out, &errb, getenv)
		if handled != tt.handled {
			t.Errorf("%q %v: handled = %v, want %v", name, tt.env, handled, tt.handled)
		}
		if !handled {
			if out.Len()+errb.Len() != 0 || code != 0 {
				t.Errorf("%q: not handled but wrote %q %q, code %d", name, out.String(), errb.String(), code)
			}
		} else {
			var wantOut, wantErr bytes.Buffer
			wantCode := cli.Main(context.Background(), tt.args, strings.NewReader(""), &wantOut, &wantErr, getenv)
			if code != wantCode || out.String() != wantOut.String() || errb.String() != wantErr.String() {
				t.Errorf("%q: Fast = %d %q %q; command = %d %q %q", name, code, out.String(), errb.String(), wantCode, wantOut.String(), wantErr.String())
			}
		}
		for k := range tt.env {
			delete(env, k)
		}
	}
}

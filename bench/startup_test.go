// Package bench holds sesame's performance harnesses; bench/run.sh drives
// them and prints the figures.
//
// BenchmarkTokenCached runs `sesame token` in process with a valid cached
// token in go-keyring's in-memory mock, so that a CPU or allocation profile
// shows what the command costs on top of the keychain read:
//
//	go test ./bench -run '^$' -bench TokenCached -benchmem -cpuprofile /tmp/token.cpu
//	go tool pprof -top -cum bench.test /tmp/token.cpu
package bench

import (
	"bytes"
	"context"
	"io"
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
)

// cachedLogin stores a valid login for profile "default" in go-keyring's
// in-memory mock, with a config file naming it, and returns the environment
// to run sesame in and the access token.
func cachedLogin(tb testing.TB) (getenv func(string) string, accessToken string) {
	tb.Helper()
	keyring.MockInit()
	dir := tb.TempDir()
	issuer := "http://127.0.0.1:9"
	cfg := filepath.Join(dir, "config", "sesame", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o700); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("profiles:\n  default:\n    issuer: "+issuer+"\n    client_id: sesame-cli\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	// Sizes like the local IdP's: opaque access and refresh tokens, a JWT-sized ID token.
	t := &session.Tokens{
		ClientID: "sesame-cli",
		Endpoints: provider.Endpoints{Issuer: issuer, Auth: issuer + "/auth", Token: issuer + "/token",
			Userinfo: issuer + "/me", JWKS: issuer + "/jwks", Revocation: issuer + "/token/revocation"},
		AccessToken: strings.Repeat("a", 43), TokenType: "Bearer", RefreshToken: strings.Repeat("r", 43),
		IDToken: strings.Repeat("i", 900), Expiry: now.Add(time.Hour), ObtainedAt: now,
		Scope:    "openid profile email offline_access",
		Identity: &provider.Identity{Subject: "alice", Email: "alice@example.com", Expiry: now.Add(time.Hour)},
	}
	s := &session.Session{Profile: "default", Store: store.NewKeychain(store.KeychainOptions{}), LockDir: filepath.Join(dir, "locks")}
	if err := s.SaveLogin(context.Background(), t); err != nil {
		tb.Fatal(err)
	}
	env := map[string]string{"XDG_CONFIG_HOME": filepath.Join(dir, "config"), "XDG_STATE_HOME": filepath.Join(dir, "state"), "HOME": dir}
	return func(k string) string { return env[k] }, t.AccessToken
}

func BenchmarkTokenCached(b *testing.B) {
	getenv, want := cachedLogin(b)
	var out bytes.Buffer
	ctx := context.Background()
	for b.Loop() {
		out.Reset()
		if code := cli.Main(ctx, []string{"token"}, strings.NewReader(""), &out, io.Discard, getenv); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	if out.String() != want+"\n" {
		b.Fatalf("printed %q", out.String())
	}
}

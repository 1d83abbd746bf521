package session

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/sesame-cli/sesame/internal/store"
)

// The standard file keeps the bare names sesame always used; any other
// file gets a prefix of its own, which no bare name and no other file's
// prefix can equal, and no "#" (the store's chunk separator).
func TestKeyFor(t *testing.T) {
	std := "/home/u/.config/sesame/config.yaml"
	if ns := Namespace(std, std); ns != "" || KeyFor(ns, "work") != "work" || Key("work") != "work" {
		t.Errorf("standard file: namespace %q key %q", ns, KeyFor(ns, "work"))
	}
	if Namespace("", std) != "" {
		t.Error("no file has a namespace")
	}
	a, b := Namespace("/tmp/a.yaml", std), Namespace("/tmp/b.yaml", std)
	if len(a) != 16 || a == b || a != Namespace("/tmp/a.yaml", std) {
		t.Errorf("namespaces %q %q", a, b)
	}
	k := KeyFor(a, "work")
	if k != a+"/work" || strings.Contains(k, "#") || k == KeyFor(b, "work") || k == KeyFor("", "work") {
		t.Errorf("key %q", k)
	}
	if d := (Target{Resource: "https://api"}).key(k); !strings.HasPrefix(d, k+"/token/") {
		t.Errorf("derived key %q is not under %q", d, k)
	}
}

// Two sessions of the same profile name in different files share one
// store and lock directory, and keep apart: a login in one replaces
// nothing of the other's, and removing one leaves the other.
func TestNamespacesKeepLoginsApart(t *testing.T) {
	keyring.MockInit()
	st := store.NewKeychain(store.KeychainOptions{})
	locks := t.TempDir()
	mk := func(ns string) *Session {
		return &Session{Profile: "work", Namespace: ns, Store: st, LockDir: locks, Now: func() time.Time { return time.Unix(1_000_000, 0) }}
	}
	std, other := mk(""), mk(Namespace("/tmp/team.yaml", "/home/u/.config/sesame/config.yaml"))
	ctx := context.Background()
	for s, at := range map[*Session]string{std: "at-std", other: "at-other"} {
		if err := s.SaveLogin(ctx, &Tokens{AccessToken: at, Expiry: time.Unix(2_000_000, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := std.Load(); err != nil || got.AccessToken != "at-std" {
		t.Fatalf("standard login: %v %v", got, err)
	}
	if err := other.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Load(); err == nil {
		t.Error("the removed login is still there")
	}
	if got, err := std.Load(); err != nil || got.AccessToken != "at-std" {
		t.Errorf("removing the other file's login touched this one: %v %v", got, err)
	}
	names, _ := os.ReadDir(locks)
	var files []string
	for _, n := range names {
		files = append(files, n.Name())
	}
	if len(files) != 2 || !strings.HasSuffix(strings.Join(files, " "), ".lock") {
		t.Errorf("lock files %v, want one per file", files)
	}
	if _, err := os.Stat(filepath.Join(locks, "work.lock")); err != nil {
		t.Errorf("the standard file's lock moved: %v", err)
	}
}

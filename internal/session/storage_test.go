package session

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/sesame-cli/sesame/internal/store"
)

// damagedHeader is a chunked head entry whose two chunks were never
// written: what an interrupted or truncated keychain copy leaves.
const damagedHeader = "sesame-chunked/v1 gen=0123456789abcdef n=2 sha256=" +
	"0000000000000000000000000000000000000000000000000000000000000000"

// A damaged entry asks for a login like a missing one, and the message
// names both ways out: login replaces it, logout --no-revoke removes it.
func TestLoadDamagedEntry(t *testing.T) {
	tests := []struct {
		name, profile, head string
		want                []string
	}{
		{"chunks missing", "default", damagedHeader, []string{`the stored tokens for profile "default" are damaged (a chunk is missing)`, "`sesame login` replaces them and `sesame logout --no-revoke` removes them"}},
		{"header truncated", "work", damagedHeader[:40], []string{`profile "work" are damaged (malformed header)`, "`sesame login --profile work` replaces them and `sesame logout --profile work --no-revoke` removes them"}},
		{"not JSON", "default", "Z2FyYmFnZXs=", []string{`profile "default" cannot be used (`, "`sesame logout --no-revoke` removes them"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(t)
			s.Profile = tt.profile
			if err := keyring.Set(store.DefaultService, tt.profile, tt.head); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load()
			var lr *LoginRequiredError
			if !errors.As(err, &lr) || !lr.Unreadable {
				t.Fatalf("Load = %v, want an unreadable LoginRequiredError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestDamagedEntryIsReplacedAndRemoved(t *testing.T) {
	ctx := context.Background()
	s := newSession(t)
	keyring.Set(store.DefaultService, "p", damagedHeader)
	keyring.Set(store.DefaultService, "p#0123456789abcdef.0", "QUJD")
	if err := s.SaveLogin(ctx, &Tokens{AccessToken: "new"}); err != nil {
		t.Fatalf("SaveLogin over a damaged entry: %v", err)
	}
	if tok, err := s.Load(); err != nil || tok.AccessToken != "new" {
		t.Fatalf("Load after SaveLogin = %v, %v", tok, err)
	}
	if _, err := keyring.Get(store.DefaultService, "p#0123456789abcdef.0"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("the damaged entry's chunk survived: %v", err)
	}

	keyring.Set(store.DefaultService, "p", damagedHeader)
	for _, revoke := range []bool{false, true} {
		if _, err := s.Logout(ctx, revoke); err != nil {
			t.Fatalf("Logout(revoke=%v) of a damaged entry: %v", revoke, err)
		}
		if _, err := keyring.Get(store.DefaultService, "p"); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("Logout(revoke=%v) left the entry: %v", revoke, err)
		}
		keyring.Set(store.DefaultService, "p", "not base64 !")
	}
}

// A lock file that is a link is refused, and what it points to is left
// alone: the lock must never create, truncate or hold a file of someone
// else's choosing.
func TestLockRefusesLink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	s := newSession(t)
	s.Profile = "default"
	target := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(s.LockDir, "default.lock")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(target)
	_, err := s.lock(context.Background())
	if err == nil || !strings.Contains(err.Error(), "refusing to use "+link+": it is a symbolic link") {
		t.Fatalf("lock = %v, want a refusal naming the link", err)
	}
	after, _ := os.Stat(target)
	if b, _ := os.ReadFile(target); string(b) != "keep me" || after.Mode() != before.Mode() || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the link's target changed: %q %v", b, after.Mode())
	}

	// A dangling link, to a file the lock would create, is refused too.
	os.Remove(link)
	os.Symlink(filepath.Join(t.TempDir(), "created"), link)
	if _, err := s.lock(context.Background()); err == nil {
		t.Error("a dangling link was followed")
	}
}

func TestLockDirectoryRules(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no POSIX modes")
	}
	s := newSession(t)
	s.LockDir = filepath.Join(s.LockDir, "sesame", "locks")
	unlock, err := s.lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	fi, err := os.Lstat(filepath.Join(s.LockDir, "p.lock"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}

	state := filepath.Dir(s.LockDir)
	os.Chmod(state, 0o777)
	if _, err := s.lock(context.Background()); err == nil || !strings.Contains(err.Error(), "chmod go-w "+state) {
		t.Errorf("lock under a world-writable state directory = %v", err)
	}
	os.Chmod(state, 0o700)

	s.LockDir, s.LockDirErr = "", errors.New("no directory for sesame's state")
	if _, err := s.lock(context.Background()); err != s.LockDirErr {
		t.Errorf("lock without a directory = %v", err)
	}
}

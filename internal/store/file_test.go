package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestFileRoundTrip(t *testing.T) {
	f := NewFile(filepath.Join(t.TempDir(), "tokens"))
	keys := []string{"default", "work/resource/3f2a9c", "../escape", "Work", "work", "日本"}
	for i, key := range keys {
		want := pattern(100*i, byte(i))
		if err := f.Set(key, want); err != nil {
			t.Fatalf("Set(%q): %v", key, err)
		}
	}
	for i, key := range keys {
		got, err := f.Get(key)
		if err != nil || !bytes.Equal(got, pattern(100*i, byte(i))) {
			t.Errorf("Get(%q) = %d bytes, %v", key, len(got), err)
		}
		if dir := filepath.Dir(f.Path(key)); dir != f.dir {
			t.Errorf("Path(%q) = %q, outside %q", key, f.Path(key), f.dir)
		}
	}
	if f.Backend() != "file" {
		t.Errorf("Backend = %q", f.Backend())
	}
}

func TestFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no POSIX modes")
	}
	dir := filepath.Join(t.TempDir(), "state", "tokens")
	f := NewFile(dir)
	if err := f.Set("default", []byte("secret")); err != nil {
		t.Fatal(err)
	}
	if err := f.Set("default", []byte("secret 2")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, %v; want 0700", st.Mode().Perm(), err)
	}
	st, err = os.Stat(f.Path("default"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v, %v; want 0600", st.Mode().Perm(), err)
	}
}

func TestFileFailedWriteKeepsOldValue(t *testing.T) {
	dir := t.TempDir()
	f := NewFile(dir)
	old := []byte(`{"refresh_token":"old"}`)
	if err := f.Set("default", old); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("crash before rename")
	f.rename = func(string, string) error { return crash }
	if err := f.Set("default", pattern(4096, 1)); !errors.Is(err, crash) {
		t.Fatalf("Set = %v, want the rename failure", err)
	}
	got, err := f.Get("default")
	if err != nil || !bytes.Equal(got, old) {
		t.Fatalf("Get after failed Set = %q, %v; want %q", got, err, old)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the token file (temp file left behind?)", len(entries))
	}
}

func TestFileReadOnlyDirKeepsOldValue(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("needs POSIX permissions that apply to this user")
	}
	dir := t.TempDir()
	f := NewFile(dir)
	if err := f.Set("default", []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if err := f.Set("default", []byte("new")); err == nil {
		t.Fatal("Set into a read-only directory succeeded")
	}
	if got, err := f.Get("default"); err != nil || string(got) != "old" {
		t.Fatalf("Get = %q, %v; want old", got, err)
	}
}

func TestFileNotFoundAndDelete(t *testing.T) {
	f := NewFile(filepath.Join(t.TempDir(), "missing"))
	if _, err := f.Get("default"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before any Set = %v, want ErrNotFound", err)
	}
	if err := f.Delete("default"); err != nil {
		t.Fatalf("Delete of a missing key = %v", err)
	}
	if err := f.Set("work/x", []byte("v")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := f.Delete("work/x"); err != nil {
			t.Fatalf("Delete #%d = %v", i+1, err)
		}
	}
	if _, err := f.Get("work/x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
}

func TestFileNames(t *testing.T) {
	tests := []struct{ key, prefix string }{
		{"default", "default."},
		{"work/resource/3f2a", "work_resource_3f2a."},
		{"..", "__."},
		{"日本", "__."},
		{strings.Repeat("a", 300), strings.Repeat("a", 48) + "."},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		name := fileName(tt.key)
		if !strings.HasPrefix(name, tt.prefix) || len(name) != len(tt.prefix)+16 {
			t.Errorf("fileName(%q) = %q, want %q + 16 hex", tt.key, name, tt.prefix)
		}
		if other, ok := seen[name]; ok {
			t.Errorf("%q and %q share the file name %q", tt.key, other, name)
		}
		seen[name] = tt.key
	}
	if strings.EqualFold(fileName("Work"), fileName("work")) {
		t.Error("keys differing in case collide on case-insensitive file systems")
	}
}

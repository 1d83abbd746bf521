package store

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestStateDir(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	tests := []struct {
		name string
		env  map[string]string
		want string // "" means an error
	}{
		{"absolute XDG_STATE_HOME", map[string]string{"XDG_STATE_HOME": filepath.Join(home, "xdg"), "HOME": home}, filepath.Join(home, "xdg", "sesame")},
		{"unset XDG_STATE_HOME", map[string]string{"HOME": home}, filepath.Join(home, ".local", "state", "sesame")},
		{"relative XDG_STATE_HOME", map[string]string{"XDG_STATE_HOME": "relative/state", "HOME": home}, filepath.Join(home, ".local", "state", "sesame")},
		{"dot XDG_STATE_HOME", map[string]string{"XDG_STATE_HOME": ".", "HOME": home}, filepath.Join(home, ".local", "state", "sesame")},
		{"no HOME", map[string]string{}, ""},
		{"relative HOME", map[string]string{"HOME": "home"}, ""},
		{"relative XDG_STATE_HOME and no HOME", map[string]string{"XDG_STATE_HOME": "state"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			got, err := StateDir(getenv)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), "set HOME, or XDG_STATE_HOME to an absolute path") {
					t.Fatalf("StateDir = %q, %v; want an error naming HOME", got, err)
				}
				if _, err := DefaultFileDir(getenv); err == nil {
					t.Error("DefaultFileDir without a state directory succeeded")
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("StateDir = %q, %v; want %q", got, err, tt.want)
			}
			if files, err := DefaultFileDir(getenv); err != nil || files != filepath.Join(tt.want, "tokens") {
				t.Errorf("DefaultFileDir = %q, %v", files, err)
			}
		})
	}
}

// privateTree returns state/tokens under a fresh directory, with state
// created at mode.
func privateTree(t *testing.T, mode os.FileMode) (state, tokens string) {
	t.Helper()
	state = filepath.Join(t.TempDir(), "sesame")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(state, mode); err != nil {
		t.Fatal(err)
	}
	return state, filepath.Join(state, "tokens")
}

func TestMkdirPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no POSIX modes")
	}
	_, dir := privateTree(t, 0o700)
	if err := MkdirPrivate(dir); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("mode %v, %v; want 0700", st.Mode().Perm(), err)
	}
	if err := MkdirPrivate("relative/tokens"); err == nil || !strings.Contains(err.Error(), "not an absolute path") {
		t.Errorf("relative dir: %v", err)
	}
	if _, err := os.Stat("relative"); !os.IsNotExist(err) {
		t.Error("a relative dir was created in the working directory")
	}

	state, dir := privateTree(t, 0o777)
	err := MkdirPrivate(dir)
	if err == nil || !strings.Contains(err.Error(), "refusing to use "+state+": it is writable by group or others (mode 0777); fix it with: chmod go-w "+state) {
		t.Errorf("group/world-writable parent: %v", err)
	}

	_, dir = privateTree(t, 0o700)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o770)
	if err := MkdirPrivate(dir); err == nil || !strings.Contains(err.Error(), "chmod go-w "+dir) {
		t.Errorf("group-writable dir: %v", err)
	}
}

// The file store refuses a token directory, or a token file, that others
// could have written; replacing a bad file is the fix, so Set still works.
func TestFileRefusesWhatOthersCanWrite(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no POSIX modes")
	}
	t.Run("state directory writable by others", func(t *testing.T) {
		state, dir := privateTree(t, 0o700)
		f := NewFile(dir)
		if err := f.Set("default", []byte("v")); err != nil {
			t.Fatal(err)
		}
		os.Chmod(state, 0o777)
		if _, err := f.Get("default"); err == nil || !strings.Contains(err.Error(), "chmod go-w "+state) {
			t.Errorf("Get = %v", err)
		}
		if err := f.Set("default", []byte("w")); err == nil || !strings.Contains(err.Error(), "chmod go-w "+state) {
			t.Errorf("Set = %v", err)
		}
	})
	t.Run("token file writable by others", func(t *testing.T) {
		_, dir := privateTree(t, 0o700)
		f := NewFile(dir)
		if err := f.Set("default", []byte("v")); err != nil {
			t.Fatal(err)
		}
		os.Chmod(f.Path("default"), 0o666)
		if _, err := f.Get("default"); err == nil || !strings.Contains(err.Error(), "chmod go-w "+f.Path("default")) {
			t.Errorf("Get = %v", err)
		}
		if err := f.Set("default", []byte("w")); err != nil {
			t.Fatalf("Set over it = %v", err)
		}
		if got, err := f.Get("default"); err != nil || string(got) != "w" {
			t.Errorf("Get after Set = %q, %v", got, err)
		}
	})
	t.Run("token file is a link", func(t *testing.T) {
		_, dir := privateTree(t, 0o700)
		f := NewFile(dir)
		if err := MkdirPrivate(dir); err != nil {
			t.Fatal(err)
		}
		elsewhere := filepath.Join(t.TempDir(), "planted")
		os.WriteFile(elsewhere, []byte(`{"planted":true}`), 0o600)
		if err := os.Symlink(elsewhere, f.Path("default")); err != nil {
			t.Fatal(err)
		}
		if got, err := f.Get("default"); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("Get = %q, %v", got, err)
		}
		if err := f.Set("default", []byte("mine")); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(elsewhere); !bytes.Equal(b, []byte(`{"planted":true}`)) {
			t.Errorf("Set wrote through the link: %q", b)
		}
	})
	t.Run("state directory owned by another user", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to chown; fsperm's unit test covers the rule with an injected uid")
		}
		state, dir := privateTree(t, 0o700)
		if err := os.Chown(state, 4242, 4242); err != nil {
			t.Fatal(err)
		}
		f := NewFile(dir)
		if err := f.Set("default", []byte("v")); err == nil || !strings.Contains(err.Error(), "refusing to use "+state+": it is owned by uid 4242") {
			t.Errorf("Set = %v", err)
		}
	})
	t.Run("missing directory is not found", func(t *testing.T) {
		f := NewFile(filepath.Join(t.TempDir(), "no", "tokens"))
		if _, err := f.Get("default"); err != ErrNotFound {
			t.Errorf("Get = %v, want ErrNotFound", err)
		}
	})
	t.Run("relative directory", func(t *testing.T) {
		f := NewFile(filepath.Join("rel", "tokens"))
		if err := f.Set("default", []byte("v")); err == nil {
			t.Error("Set into a relative directory succeeded")
		}
		if _, err := f.Get("default"); err == nil || err == ErrNotFound {
			t.Errorf("Get = %v", err)
		}
	})
}

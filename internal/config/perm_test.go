package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A config file others can write is refused: it decides where the user's
// authorization codes and tokens go.
func TestLoadRefusesConfigOthersCanWrite(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no POSIX modes")
	}
	const body = "profiles:\n  default:\n    issuer: https://idp.example\n"
	tests := []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o600, true},
		{0o644, true},
		{0o664, false},
		{0o666, false},
		{0o602, false},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			os.Chmod(path, tt.mode)
			c, err := Load(path, nil)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if p, _ := c.Profile("default"); p.Issuer != "https://idp.example" {
					t.Errorf("issuer %q", p.Issuer)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "refusing to use "+path+": it is writable by group or others") || !strings.Contains(err.Error(), "chmod go-w "+path) {
				t.Errorf("Load = %v, want a refusal naming the path and the fix", err)
			}
		})
	}
}

func TestLoadRefusesConfigOfAnotherUser(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		t.Skip("needs root to chown; internal/fsperm tests the rule with an injected uid")
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte("current: x\n"), 0o644)
	if err := os.Chown(path, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, nil); err == nil || !strings.Contains(err.Error(), "owned by uid 4242") {
		t.Errorf("Load = %v", err)
	}
}

// A config linked in by a dotfile manager is fine; what counts is the file.
func TestLoadFollowsConfigLink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "dotfiles.yaml")
	os.WriteFile(target, []byte("current: work\n"), 0o600)
	link := filepath.Join(dir, "config.yaml")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(link, nil); err != nil || c.Current != "work" {
		t.Fatalf("Load = %v, %v", c, err)
	}
	os.Chmod(target, 0o666)
	if _, err := Load(link, nil); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Errorf("Load through a link to a world-writable file = %v", err)
	}
}

// What sesame writes itself passes its own check, whatever the file was.
func TestSavedConfigPassesTheCheck(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no POSIX modes")
	}
	path := filepath.Join(t.TempDir(), "sesame", "config.yaml")
	if err := SaveProfile(path, "default", map[string]any{"issuer": "https://idp.example"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new config mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if _, err := Load(path, nil); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	if err := SaveProfile(path, "work", map[string]any{"client_id": "c"}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("rewritten config mode %v; want 0600", fi.Mode().Perm())
	}
	if _, err := Load(path, nil); err != nil {
		t.Fatal(err)
	}
}

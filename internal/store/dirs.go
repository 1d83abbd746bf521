package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sesame-cli/sesame/internal/fsperm"
)

// StateDir is sesame's directory for what is neither configuration nor a
// keychain secret: lock files, and the token files of the opt-in file
// store. It is $XDG_STATE_HOME/sesame, or ~/.local/state/sesame when
// XDG_STATE_HOME is unset or relative: the XDG Base Directory
// Specification (0.8) says a relative value must be ignored, and honouring
// one would put tokens in whatever directory sesame happens to run in.
func StateDir(getenv func(string) string) (string, error) {
	if dir := getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "sesame"), nil
	}
	home := getenv("HOME")
	if home == "" {
		home = getenv("USERPROFILE") // Windows
	}
	if !filepath.IsAbs(home) {
		return "", errors.New("no directory for sesame's state (lock files, token files): set HOME, or XDG_STATE_HOME to an absolute path")
	}
	return filepath.Join(home, ".local", "state", "sesame"), nil
}

// DefaultFileDir is where the file store keeps tokens: StateDir/tokens.
func DefaultFileDir(getenv func(string) string) (string, error) {
	dir, err := StateDir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "tokens"), nil
}

// DefaultLockDir is where the per-profile lock files go: StateDir/locks,
// beside the token files and apart from the secrets, keychain or not.
func DefaultLockDir(getenv func(string) string) (string, error) {
	dir, err := StateDir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "locks"), nil
}

// MkdirPrivate creates dir (0700, with any missing parents) and checks it
// with checkDir, for the token and lock directories.
func MkdirPrivate(dir string) error {
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("refusing to use %q: it is not an absolute path", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return checkDir(dir)
}

// checkDir checks dir and the directory that holds it (fsperm.Private):
// whoever can write to the parent can move dir aside and put one of their
// own in its place. A missing directory is an fs.ErrNotExist error.
func checkDir(dir string) error {
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("refusing to use %q: it is not an absolute path", dir)
	}
	for _, p := range []string{filepath.Dir(dir), dir} {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("refusing to use %s: it is not a directory", p)
		}
		if err := fsperm.Private(p, fi); err != nil {
			return err
		}
	}
	return nil
}

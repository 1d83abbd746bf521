package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/sesame-cli/sesame/internal/fsperm"
)

// File stores each value in its own file, readable only by the owner. It is
// the opt-in fallback for hosts without an OS keychain: the tokens are as
// safe as the user's account and disk, no more.
type File struct {
	dir string
	// rename replaces os.Rename in tests to simulate a crash mid-write.
	rename func(oldpath, newpath string) error
}

var _ Store = (*File)(nil)

// NewFile returns a file store rooted at dir, an absolute path. The
// directory is created (mode 0700) on the first Set; it and its parent
// must belong to the user and be writable by nobody else (see checkDir).
func NewFile(dir string) *File {
	return &File{dir: dir, rename: os.Rename}
}

// Backend implements Store.
func (f *File) Backend() string { return "file" }

// Path is the file that holds key's value, for messages that tell the user
// where their tokens are.
//
// The name is a readable slug of the key plus a hash of the exact key: the
// slug alone would collide on case-insensitive file systems ("Work" and
// "work") and could turn into a reserved or over-long name; the hash keeps
// every key distinct and the name short.
func (f *File) Path(key string) string {
	return filepath.Join(f.dir, fileName(key))
}

func fileName(key string) string {
	var slug strings.Builder
	for _, r := range strings.ToLower(key) {
		if slug.Len() >= 48 {
			break
		}
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '-':
			slug.WriteRune(r)
		default:
			slug.WriteByte('_')
		}
	}
	if slug.Len() == 0 {
		slug.WriteString("key")
	}
	sum := sha256.Sum256([]byte(key))
	return slug.String() + "." + hex.EncodeToString(sum[:8])
}

// Get implements Store.
func (f *File) Get(key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := checkDir(f.dir); errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	path := f.Path(key)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read token file: %w", err)
	}
	// The directory is private, so nobody else can swap the file between
	// this check and the read.
	if err := fsperm.Private(path, fi); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read token file: %w", err)
	}
	return b, nil
}

// Set implements Store. The value goes to a temporary file in the same
// directory, created 0600 so it is never readable by others even briefly,
// and is synced before rename(2) replaces the old file in one step (POSIX
// rename is atomic within a file system). Syncing the directory afterwards
// makes the rename itself survive a power loss. Whatever held the name
// before (even a link) is replaced, not written through, so the old file's
// owner and mode do not matter: replacing it is the fix.
func (f *File) Set(key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := MkdirPrivate(f.dir); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(f.dir, ".tmp-*") // mode 0600 from creation
	if err != nil {
		return fmt.Errorf("create token file: %w", err)
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(value); err != nil {
		return fmt.Errorf("write token file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync token file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close token file: %w", err)
	}
	if err := f.rename(tmp.Name(), f.Path(key)); err != nil {
		return fmt.Errorf("replace token file: %w", err)
	}
	renamed = true
	return f.syncDir()
}

// Delete implements Store.
func (f *File) Delete(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	err := os.Remove(f.Path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete token file: %w", err)
	}
	return f.syncDir()
}

// syncDir flushes the directory entry changes. Windows cannot fsync a
// directory handle, so there the rename's own durability has to do.
func (f *File) syncDir() error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(f.dir)
	if err != nil {
		return fmt.Errorf("sync token directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync token directory: %w", err)
	}
	return nil
}

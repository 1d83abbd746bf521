package session

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/sesame-cli/sesame/internal/fsperm"
	"github.com/sesame-cli/sesame/internal/store"
)

// DefaultLockTimeout bounds the wait for another sesame process's refresh.
const DefaultLockTimeout = 30 * time.Second

// LockTimeoutError means another process held the profile's lock too long.
type LockTimeoutError struct {
	Profile, Path string
	After         time.Duration
}

func (e *LockTimeoutError) Error() string {
	return fmt.Sprintf("another sesame process has held the token lock of profile %q for %s (%s); try again once it finishes", e.Profile, e.After, e.Path)
}

// lock serialises read → refresh → write for one profile across processes
// (a refresh token must never be presented twice: providers that rotate
// them treat reuse as theft and revoke the grant). The lock is a file
// apart from the secret store; the OS drops it when its holder dies, so a
// crashed process never blocks the others.
func (s *Session) lock(ctx context.Context) (func(), error) {
	if err := s.CheckLockDir(); err != nil {
		return nil, err
	}
	// A link where the lock file belongs would have sesame create, or hold
	// open, a file of someone else's choosing: it is refused, and the open
	// itself does not follow one (O_NOFOLLOW) should it appear in between.
	path := filepath.Join(s.LockDir, url.PathEscape(s.key())+".lock")
	if fi, err := os.Lstat(path); err == nil {
		if err := fsperm.Private(path, fi); err != nil {
			return nil, err
		}
	}
	fl := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR|fsperm.NoFollow), flock.SetPermissions(0o600))
	timeout := s.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ok, err := fl.TryLockContext(lctx, 10*time.Millisecond)
	if !ok {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) || err == nil {
			return nil, &LockTimeoutError{Profile: s.Profile, Path: path, After: timeout}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { fl.Unlock() }, nil
}

// CheckLockDir makes sure the lock directory exists and is private, so a
// login can report a bad state directory before the user signs in rather
// than when it saves the tokens.
func (s *Session) CheckLockDir() error {
	if s.LockDir == "" {
		if s.LockDirErr != nil {
			return s.LockDirErr
		}
		return errors.New("no lock directory configured")
	}
	return store.MkdirPrivate(s.LockDir)
}

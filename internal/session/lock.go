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
	if s.LockDir == "" {
		return nil, errors.New("no lock directory configured")
	}
	if err := os.MkdirAll(s.LockDir, 0o700); err != nil {
		return nil, fmt.Errorf("create the lock directory: %w", err)
	}
	path := filepath.Join(s.LockDir, url.PathEscape(s.Profile)+".lock")
	fl := flock.New(path)
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

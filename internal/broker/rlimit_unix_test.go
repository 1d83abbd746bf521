//go:build unix

package broker

import (
	"os"
	"syscall"
	"testing"
)

// raiseFileLimit makes room for need open files in this test process,
// raising the soft limit (and the hard one, which only a privileged user
// can) for the test's duration. Where it cannot, the test skips saying
// why, except in CI (CI=true), which runs as root: there a skip would let
// the package pass without the test, so it fails.
func raiseFileLimit(t *testing.T, need uint64) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		cannot(t, "cannot read RLIMIT_NOFILE: %v", err)
		return
	}
	if uint64(old.Cur) >= need {
		return
	}
	lim := old
	setRlim(&lim.Cur, need)
	if uint64(lim.Max) < need {
		setRlim(&lim.Max, need)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		cannot(t, "this test holds about %d open files; RLIMIT_NOFILE is %d (hard limit %d) and cannot be raised: %v",
			need, old.Cur, old.Max, err)
		return
	}
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// cannot skips the test, or fails it under CI=true.
func cannot(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (CI=true: failing instead of skipping)", args...)
	}
	t.Skipf(format, args...)
}

// setRlim sets an Rlimit field, which is int64 on some systems and
// uint64 on others.
func setRlim[T ~int64 | ~uint64](field *T, v uint64) { *field = T(v) }

//go:build unix

package broker

import (
	"syscall"
	"testing"
)

// raiseFileLimit makes room for need open files in this test process,
// raising the soft limit (and the hard one, which only a privileged user
// can) for the test's duration, or skips the test saying why.
func raiseFileLimit(t *testing.T, need uint64) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Skipf("cannot read RLIMIT_NOFILE: %v", err)
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
		t.Skipf("this test holds about %d open files; RLIMIT_NOFILE is %d (hard limit %d) and cannot be raised: %v",
			need, old.Cur, old.Max, err)
	}
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// setRlim sets an Rlimit field, which is int64 on some systems and
// uint64 on others.
func setRlim[T ~int64 | ~uint64](field *T, v uint64) { *field = T(v) }

//go:build unix

package child

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

func TestRunStatus(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"kill -TERM $$", 128 + int(syscall.SIGTERM)},
		{"kill -KILL $$", 128 + int(syscall.SIGKILL)},
	} {
		code, err := Run(exec.Command("sh", "-c", tc.script))
		if err != nil || code != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.script, code, err, tc.want)
		}
	}
}

func TestRunNotFound(t *testing.T) {
	if _, err := Run(exec.Command("sesame-test-no-such-command")); !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("err %v, want exec.ErrNotFound", err)
	}
}

// SIGTERM sent to this process goes to the child; without the relay it
// would end the test binary.
func TestRunRelays(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c := exec.Command("sh", "-c", `trap "exit 9" TERM; echo ready; while :; do sleep 0.1; done`)
	c.Stdout = w
	go func() {
		if l, _ := bufio.NewReader(r).ReadString('\n'); l == "ready\n" {
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
		}
	}()
	code, err := Run(c)
	w.Close()
	if err != nil || code != 9 {
		t.Errorf("%d %v, want the child's 9 from its TERM trap", code, err)
	}
}

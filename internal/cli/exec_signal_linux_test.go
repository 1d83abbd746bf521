package cli

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// As a container's PID 1 the kernel drops every signal sesame has no
// handler for, so `docker stop` (SIGTERM) would wait out its grace period
// and end in SIGKILL, the child never told.
func TestExecAsPID1(t *testing.T) {
	t.Parallel()
	ns := []string{"--pid", "--fork", "--mount-proc", "--kill-child"}
	if os.Geteuid() != 0 {
		ns = append([]string{"--user", "--map-root-user"}, ns...)
	}
	if out, err := exec.Command("unshare", append(ns, "true")...).CombinedOutput(); err != nil {
		reason := fmt.Sprintf("cannot make a PID namespace with unshare %s: %v %s", strings.Join(ns, " "), err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(reason)
		}
		t.Skip(reason)
	}
	bin, env := sesameLoggedIn(t)
	args := append(ns, bin, "exec", "--", "sh", "-c", "echo ready; exec sleep 100")
	p := startProc(t, env, pgroup(), nil, "unshare", args...)
	p.waitFor("ready")
	syscall.Kill(pid1(t, p.pid()), syscall.SIGTERM)
	// unshare exits with the status of its child, sesame.
	if code := p.wait(); code != 128+int(syscall.SIGTERM) {
		t.Errorf("exit %d, want 143\n%s", code, p)
	}
}

// pid1 returns the pid, as seen from here, of unshare's child: the process
// that is PID 1 in the new namespace.
func pid1(t *testing.T, unshare int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", unshare, unshare))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	if len(f) != 1 {
		t.Fatalf("unshare has children %q, want one", f)
	}
	pid, _ := strconv.Atoi(f[0])
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.Lines(string(status)) {
		if ids, ok := strings.CutPrefix(l, "NSpid:"); ok {
			if ids := strings.Fields(ids); ids[len(ids)-1] != "1" {
				t.Fatalf("process %d has pids %v, want PID 1 in its namespace", pid, ids)
			}
			return pid
		}
	}
	t.Fatalf("no NSpid in /proc/%d/status", pid)
	return 0
}

// In a terminal, Ctrl-C reaches the whole foreground process group: the
// child hears it from the terminal, and sesame does not relay it a second
// time (many programs take a second Ctrl-C as "stop now, skip the cleanup").
func TestExecInTerminal(t *testing.T) {
	t.Parallel()
	bin, env := sesameLoggedIn(t)
	// sesame leads a session whose controlling terminal is a new pty, as a
	// login shell's job would; its process group is the foreground one.
	run := func(t *testing.T, script string) (*proc, *os.File) {
		master, slave := openPTY(t)
		attr := &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		return startProc(t, env, attr, slave, bin, "exec", "--", "sh", "-c", script), master
	}

	t.Run("Ctrl-C", func(t *testing.T) {
		t.Parallel()
		p, tty := run(t, `trap "echo got INT; exit 7" INT; `+loop)
		p.waitFor("ready")
		tty.Write([]byte{3}) // ^C, the terminal's VINTR
		if code := p.wait(); code != 7 || !strings.Contains(p.stdout(), "got INT") {
			t.Errorf("exit %d, want the child's 7 after its INT trap\n%s", code, p)
		}
	})

	// A SIGINT sent to sesame alone is the price: it is not relayed while
	// sesame is in the foreground. SIGTERM still is.
	t.Run("not relayed twice", func(t *testing.T) {
		t.Parallel()
		p, _ := run(t, `trap "echo got INT" INT; trap "echo got TERM; exit 8" TERM; `+loop)
		p.waitFor("ready")
		syscall.Kill(p.pid(), syscall.SIGINT)
		// Once sesame has taken the SIGINT, a SIGTERM sent now comes after it
		// in sesame's signal queue: had sesame relayed the SIGINT, the child
		// would have it before the SIGTERM.
		waitDelivered(t, p.pid(), syscall.SIGINT)
		syscall.Kill(p.pid(), syscall.SIGTERM)
		code := p.wait()
		if out := p.stdout(); code != 8 || strings.Contains(out, "got INT") || !strings.Contains(out, "got TERM") {
			t.Errorf("exit %d, want 8 with SIGTERM relayed and SIGINT not\n%s", code, p)
		}
	})
}

// openPTY opens a pseudo-terminal pair: the master side, to type on, and
// the slave side, to be a controlling terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil { // unlockpt(3)
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN) // ptsname(3)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// waitDelivered polls until sig is no longer pending for pid: its handler
// has run.
func waitDelivered(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	bit := uint64(1) << (sig - 1)
	for deadline := time.Now().Add(procTimeout); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatal(err)
		}
		pending := uint64(0)
		for l := range strings.Lines(string(status)) {
			for _, field := range []string{"SigPnd:", "ShdPnd:"} {
				if v, ok := strings.CutPrefix(l, field); ok {
					m, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
					pending |= m
				}
			}
		}
		if pending&bit == 0 {
			return
		}
	}
	t.Fatalf("SIG%v still pending for %d after %v", sig, pid, procTimeout)
}

//go:build unix

package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/store"
)

// Signals reach a process, not a function: these tests run the real sesame
// binary, logged in through the plaintext file store so no keychain or
// provider is needed, and signal it as a supervisor or `docker stop` would.

// loop is a child that waits for a signal: ready first, so the test knows
// the trap is set, then a loop that only a signal ends.
const loop = `echo ready; while :; do sleep 0.1; done`

func TestExecRelaysSignals(t *testing.T) {
	t.Parallel()
	bin, env := sesameLoggedIn(t)
	for _, sig := range []struct {
		name string
		sig  syscall.Signal
	}{
		{"TERM", syscall.SIGTERM},
		{"HUP", syscall.SIGHUP},
		{"INT", syscall.SIGINT},
		{"QUIT", syscall.SIGQUIT},
	} {
		t.Run(sig.name, func(t *testing.T) {
			t.Parallel()
			if signal.Ignored(sig.sig) {
				t.Skipf("SIG%s is ignored here (nohup?): sesame rightly leaves it ignored for the child", sig.name)
			}
			p := startProc(t, env, pgroup(), nil, bin, "exec", "--", "sh", "-c",
				fmt.Sprintf(`trap "echo got %[1]s; exit 7" %[1]s; %s`, sig.name, loop))
			p.waitFor("ready")
			syscall.Kill(p.pid(), sig.sig)
			if code := p.wait(); code != 7 {
				t.Errorf("exit %d, want the child's 7\n%s", code, p)
			}
			if out := p.stdout(); !strings.Contains(out, "got "+sig.name) {
				t.Errorf("the child did not get SIG%s\n%s", sig.name, p)
			}
		})
	}
	// A child that dies of the signal: sesame reports it as a shell does.
	t.Run("untrapped", func(t *testing.T) {
		t.Parallel()
		p := startProc(t, env, pgroup(), nil, bin, "exec", "--", "sh", "-c", "echo ready; exec sleep 100")
		p.waitFor("ready")
		syscall.Kill(p.pid(), syscall.SIGTERM)
		if code := p.wait(); code != 128+int(syscall.SIGTERM) {
			t.Errorf("exit %d, want 143\n%s", code, p)
		}
	})
}

// The child writes to sesame's own stderr, not through the sanitiser that
// guards sesame's messages: it keeps its terminal, so that even a title
// sequence, which the sanitiser would escape, arrives as written.
func TestExecChildKeepsStreams(t *testing.T) {
	t.Parallel()
	bin, env := sesameLoggedIn(t)
	p := startProc(t, env, pgroup(), nil, bin, "exec", "--", "sh", "-c",
		`printf '\033]0;title\007\n' >&2; test "$SESAME_ACCESS_TOKEN" = exec-signals-token && echo token`)
	if code := p.wait(); code != 0 || p.stdout() != "token" {
		t.Fatalf("exit %d\n%s", code, p)
	}
	if errb, _ := os.ReadFile(p.errf.Name()); !strings.Contains(string(errb), "\x1b]0;title\a\n") {
		t.Errorf("the child's stderr was rewritten: %q", errb)
	}
}

// pgroup puts sesame in a process group of its own, out of the foreground
// of any terminal the tests run from: then only the test's signals reach it,
// and sesame relays SIGINT and SIGQUIT too (see child.fromTerminal).
func pgroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// sesameLoggedIn builds sesame and returns it with an environment whose
// default profile holds a token valid for a day, in the plaintext file
// store, so that `exec` neither refreshes nor opens a keychain.
func sesameLoggedIn(t *testing.T) (bin string, env []string) {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir, "github.com/sesame-cli/sesame/cmd/sesame")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const issuer, client = "https://idp.example.test", "exec-signals"
	cfg := filepath.Join(dir, "config", "sesame", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o700); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf("profiles:\n  default:\n    issuer: %s\n    client_id: %s\n    storage: file\n", issuer, client)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state", "sesame") // Factory.stateDir
	sess := &session.Session{Profile: "default", Store: store.NewFile(filepath.Join(state, "tokens")), LockDir: filepath.Join(state, "locks")}
	now := time.Now()
	err := sess.SaveLogin(context.Background(), &session.Tokens{
		ClientID: client, Endpoints: provider.Endpoints{Issuer: issuer, Token: issuer + "/token"},
		AccessToken: "exec-signals-token", TokenType: "Bearer", ObtainedAt: now, Expiry: now.Add(24 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "sesame"), []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "XDG_STATE_HOME=" + filepath.Join(dir, "state"),
	}
}

// proc is a process under test: its stdout line by line, its stderr, and
// every wait bounded, so that a regression fails instead of hanging.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string
	out    []string
	errf   *os.File
	exited chan struct{}
}

const procTimeout = 10 * time.Second

func startProc(t *testing.T, env []string, attr *syscall.SysProcAttr, stdin *os.File, name string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, cmd: exec.Command(name, args...), lines: make(chan string, 64), exited: make(chan struct{})}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// Real files, as in production, where sesame hands its own to the
	// child; and so that Wait returns when sesame exits, not when the last
	// process holding a pipe does.
	if p.errf, err = os.Create(filepath.Join(t.TempDir(), "stderr")); err != nil {
		t.Fatal(err)
	}
	p.cmd.Env, p.cmd.SysProcAttr, p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = env, attr, stdin, w, p.errf
	err = p.cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	// Whatever a failing case leaves running dies with the group.
	t.Cleanup(func() { syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) })
	go func() {
		defer r.Close()
		s := bufio.NewScanner(r)
		for s.Scan() {
			p.lines <- s.Text()
		}
		close(p.lines)
	}()
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// waitFor reads stdout up to the line want.
func (p *proc) waitFor(want string) {
	p.t.Helper()
	deadline := time.After(procTimeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.wait()
				p.t.Fatalf("stdout ended before %q\n%s", want, p)
			}
			p.out = append(p.out, l)
			if l == want {
				return
			}
		case <-deadline:
			p.t.Fatalf("no %q within %v\n%s", want, procTimeout, p)
		}
	}
}

// wait returns the exit code, or fails the test when the process does not
// exit in time or dies of a signal itself.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(procTimeout):
		syscall.Kill(-p.pid(), syscall.SIGKILL)
		<-p.exited
		p.t.Fatalf("still running %v after the signal\n%s", procTimeout, p)
	}
	if ws := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signaled() {
		p.t.Fatalf("killed by %v itself instead of relaying it\n%s", ws.Signal(), p)
	}
	return p.cmd.ProcessState.ExitCode()
}

// stdout is everything the process wrote, once it has exited.
func (p *proc) stdout() string {
	p.t.Helper()
	deadline := time.After(procTimeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return strings.Join(p.out, "\n")
			}
			p.out = append(p.out, l)
		case <-deadline:
			p.t.Fatalf("stdout still open %v after exit: the child outlived sesame\n%s", procTimeout, p)
		}
	}
}

func (p *proc) String() string {
	s := fmt.Sprintf("stdout so far:\n%s", strings.Join(p.out, "\n"))
	errb, _ := os.ReadFile(p.errf.Name())
	return s + "\nstderr:\n" + string(errb)
}

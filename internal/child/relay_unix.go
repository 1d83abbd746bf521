//go:build unix

package child

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// relayed are the signals that ask a process to stop. Without relaying,
// SIGHUP and SIGQUIT would kill sesame and orphan the child, SIGINT and
// SIGTERM would only cancel sesame's context (cmd/sesame catches them)
// while the child ran on, and as PID 1 in a container, where the kernel
// drops signals that have no handler, `docker stop` would do nothing.
var relayed = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

type relay struct {
	sigs chan os.Signal
	done chan struct{}
}

func newRelay() *relay {
	r := &relay{sigs: make(chan os.Signal, len(relayed)), done: make(chan struct{})}
	for _, s := range relayed {
		// A signal sesame was started with ignored (nohup, a background job
		// of a script) stays ignored, and the child inherits that, as it
		// would without sesame in between.
		if !signal.Ignored(s) {
			signal.Notify(r.sigs, s)
		}
	}
	return r
}

func (r *relay) start(p *os.Process) {
	go func() {
		for {
			select {
			case s := <-r.sigs:
				if !fromTerminal(s, p.Pid) {
					p.Signal(s) // fails only when the child has just exited
				}
			case <-r.done:
				return
			}
		}
	}()
}

func (r *relay) stop() {
	signal.Stop(r.sigs)
	close(r.done)
}

// fromTerminal reports whether sig is one the terminal has already sent to
// the child. Ctrl-C and Ctrl-\ send SIGINT and SIGQUIT to the terminal's
// whole foreground process group, which holds the child as well as sesame
// when sesame runs in the foreground: relaying would deliver them twice,
// and many programs (terraform, docker compose, most Go tools) take a
// second Ctrl-C as "stop now, skip the cleanup". The price: while sesame
// is in the foreground, a SIGINT or SIGQUIT sent to sesame alone (kill -INT
// from elsewhere) is not relayed; SIGTERM and SIGHUP always are, and
// without a controlling terminal (containers, services, CI) all four are.
func fromTerminal(sig os.Signal, pid int) bool {
	if sig != syscall.SIGINT && sig != syscall.SIGQUIT {
		return false
	}
	tty, err := os.Open("/dev/tty") // the controlling terminal, whatever the redirections
	if err != nil {
		return false
	}
	defer tty.Close()
	fg, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	if err != nil {
		return false
	}
	pg, err := unix.Getpgid(pid)
	return err == nil && pg == fg
}

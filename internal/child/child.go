// Package child runs the command of `sesame exec` the way a shell would:
// it relays the signals that ask the command to stop, waits for it, and
// reports its exit status as a shell does, so that sesame can stand in for
// the command in scripts, under process supervisors and as a container's
// PID 1 (`docker stop`).
package child

import (
	"errors"
	"os/exec"
	"syscall"
)

// Run starts c, relays signals to it until it exits, and returns its exit
// status as a shell reports it: the command's code, or 128+n when signal n
// killed it. err is set only when c could not start (exec.ErrNotFound for
// a command not on PATH) or its output could not be copied.
func Run(c *exec.Cmd) (code int, err error) {
	// Catch signals before the child exists, so that one arriving while it
	// starts is relayed rather than lost.
	r := newRelay()
	defer r.stop()
	if err := c.Start(); err != nil {
		return 0, err
	}
	r.start(c.Process)
	return status(c.Wait())
}

func status(err error) (int, error) {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 0, err
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ee.ExitCode(), nil
}

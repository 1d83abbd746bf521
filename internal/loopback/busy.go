package loopback

import (
	"errors"
	"fmt"
	"syscall"
)

// PortBusyError is a pinned loopback port (--port, port:) that something
// else listens on: most often another sesame login still waiting for its
// browser.
type PortBusyError struct {
	Port int
	Err  error
}

func (e *PortBusyError) Error() string {
	return fmt.Sprintf("port %d on 127.0.0.1 is in use, perhaps by another sesame login still waiting for its browser: finish or cancel that login (Ctrl-C), or pick another port with --port (port: in the profile; the provider must accept its redirect URI)", e.Port)
}

func (e *PortBusyError) Unwrap() error { return e.Err }

// wsaeaddrinuse is Windows' EADDRINUSE, which syscall.EADDRINUSE is not.
const wsaeaddrinuse = 10048

func isAddrInUse(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && (errno == syscall.EADDRINUSE || errno == wsaeaddrinuse)
}

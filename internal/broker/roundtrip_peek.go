//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package broker

import (
	"crypto/tls"
	"net"
	"syscall"
)

// canPeek: stillOpen can tell an idle connection the provider closed.
const canPeek = true

// stillOpen reports whether an idle connection can carry a request: the
// provider has neither closed it nor sent anything on it (a TLS alert
// included), as a non-blocking peek at the socket shows.
func stillOpen(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, e := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = e == syscall.EAGAIN || e == syscall.EWOULDBLOCK
		return true // never wait
	})
	return err == nil && open
}

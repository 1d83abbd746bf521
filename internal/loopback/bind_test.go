package loopback

import (
	"net"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// TestListensOnLoopbackOnly: the listener is bound to 127.0.0.1 itself,
// not to every interface while advertising 127.0.0.1 (RFC 8252 §8.3): a
// socket bound to the wildcard address would take the callback, and the
// start URL, from the network too. Binding is checked directly, then by
// dialling the port on other addresses of the machine, which a wildcard
// socket answers and a 127.0.0.1 socket does not.
func TestListensOnLoopbackOnly(t *testing.T) {
	s := start(t, Options{})
	addr, ok := s.ln.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("listening on %v, want 127.0.0.1", s.ln.Addr())
	}
	u, err := url.Parse(s.RedirectURI())
	if err != nil || u.Host != "127.0.0.1:"+strconv.Itoa(addr.Port) {
		t.Fatalf("redirect URI %s for a listener on %v", s.RedirectURI(), addr)
	}

	tried := 0
	for _, host := range otherLocalAddrs(t) {
		tried++
		target := net.JoinHostPort(host, strconv.Itoa(addr.Port))
		if c, err := net.DialTimeout("tcp", target, 2*time.Second); err == nil {
			c.Close()
			t.Errorf("the listener answers on %s: it is not bound to 127.0.0.1 alone", target)
		}
	}
	if tried == 0 {
		t.Log("no other local address to dial; checked the bound address only")
	}
}

// otherLocalAddrs are addresses of this machine other than 127.0.0.1 that
// a socket can be bound to here: 127.0.0.2 where the whole of 127/8 is
// local (Linux), ::1, and the addresses of the other interfaces.
func otherLocalAddrs(t *testing.T) []string {
	t.Helper()
	candidates := []string{"127.0.0.2", "::1"}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
				candidates = append(candidates, ipn.IP.String())
			}
		}
	}
	var usable []string
	for _, host := range candidates {
		// Usable means a listener can be bound there; then dialling it
		// reaches this machine, and only a listener on that address or on
		// the wildcard answers.
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			continue
		}
		ln.Close()
		usable = append(usable, host)
	}
	return usable
}

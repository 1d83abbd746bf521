package broker

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// directBroker is a broker whose one client's token endpoint is tokenURL,
// served on a test server, with the production upstream wiring, changed
// by mutate if any before it serves.
func directBroker(t *testing.T, tokenURL string, mutate ...func(*Broker)) (*Broker, string) {
	t.Helper()
	if !canPeek {
		t.Skip("no direct round trips on this platform")
	}
	cfg := Defaults()
	cfg.RateLimit = 0
	cfg.UpstreamTimeout = 2 * time.Second
	cfg.Clients = []Client{{ID: testClientID, TokenURL: tokenURL, Secret: testSecret}}
	b, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.direct == nil {
		t.Fatal("the default wiring makes no direct round trips")
	}
	for _, m := range mutate {
		m(b)
	}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	t.Cleanup(b.closeIdleUpstream)
	return b, srv.URL
}

func refresh(t *testing.T, base string) (int, string) {
	t.Helper()
	resp, err := testHTTP.Post(base+"/token", "application/x-www-form-urlencoded", strings.NewReader(refreshForm().Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, readBody(t, resp)
}

// connCount counts a test server's connections.
type connCount struct{ opened, closed atomic.Int32 }

// waitClosed waits until n connections have been closed.
func (c *connCount) waitClosed(t *testing.T, n int32) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); c.closed.Load() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections closed, want %d", c.closed.Load(), n)
		}
	}
}

// countingUpstream answers token requests with handler on a server that
// counts its connections, changed by mutate if any before it starts.
func countingUpstream(t *testing.T, handler http.HandlerFunc, tls bool, mutate ...func(*http.Server)) (*httptest.Server, *connCount) {
	t.Helper()
	conns := &connCount{}
	srv := httptest.NewUnstartedServer(handler)
	for _, m := range mutate {
		m(srv.Config)
	}
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			conns.opened.Add(1)
		case http.StateClosed, http.StateHijacked:
			conns.closed.Add(1)
		}
	}
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, conns
}

func tokenHandler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 1 || r.Header.Get("Accept-Encoding") != "" {
			t.Errorf("the provider got %s with Accept-Encoding %q", r.Proto, r.Header.Get("Accept-Encoding"))
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, tokenJSON())
	}
}

// TestDirectReusesConnections: sequential requests share one connection;
// one the provider closes while idle, or marks close, is not reused, and
// no request fails for it.
func TestDirectReusesConnections(t *testing.T) {
	up, conns := countingUpstream(t, tokenHandler(t), false)
	_, base := directBroker(t, up.URL+"/token")
	for range 5 {
		if status, body := refresh(t, base); status != 200 || body != tokenJSON() {
			t.Fatalf("got %d %s", status, body)
		}
	}
	if n := conns.opened.Load(); n != 1 {
		t.Errorf("5 requests opened %d connections, want 1", n)
	}

	// The provider closes the idle connection, then answers with
	// Connection: close. (A request sent while the close is on its way
	// fails, as it would through an http.Transport: a POST is never sent
	// twice.)
	up.Config.SetKeepAlivesEnabled(false)
	conns.waitClosed(t, 1)
	for range 3 {
		if status, body := refresh(t, base); status != 200 {
			t.Fatalf("after the provider closed: %d %s", status, body)
		}
	}
	if n := conns.opened.Load(); n != 4 {
		t.Errorf("%d connections, want 4: one more per answer marked close", n)
	}
}

// TestDirectIdleLongerThanTimeout: a connection idle for longer than a
// request may take is still used; the last request's deadline does not
// outlive it.
func TestDirectIdleLongerThanTimeout(t *testing.T) {
	up, conns := countingUpstream(t, tokenHandler(t), false)
	_, base := directBroker(t, up.URL+"/token", func(b *Broker) { b.cfg.UpstreamTimeout = 100 * time.Millisecond })
	for i := range 3 {
		if status, body := refresh(t, base); status != 200 {
			t.Fatalf("request %d: %d %s", i, status, body)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if n := conns.opened.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// TestDirectIdleTimeout: a connection the provider timed out while it was
// idle is found closed before it is used.
func TestDirectIdleTimeout(t *testing.T) {
	up, conns := countingUpstream(t, tokenHandler(t), false, func(s *http.Server) { s.IdleTimeout = 50 * time.Millisecond })
	_, base := directBroker(t, up.URL+"/token")
	for i := range 3 {
		if status, body := refresh(t, base); status != 200 {
			t.Fatalf("request %d: %d %s", i, status, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := conns.opened.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
}

// scriptedUpstream answers each request on a raw connection with the next
// answer (the last one again once they run out), closing the connection
// after one that starts "HANG UP:", and counts connections.
func scriptedUpstream(t *testing.T, answers ...string) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns, next atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					a := answers[min(int(next.Add(1))-1, len(answers)-1)]
					a, hangUp := strings.CutPrefix(a, "HANG UP:")
					if _, err := io.WriteString(c, a); err != nil || hangUp {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/token", &conns
}

func answer(header, body string) string {
	return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + header + "\r\n" + body
}

// TestDirectDropsUnfinishedConnections: after an answer that was not read
// to its end, came with more bytes than it framed, or was cut off, the
// connection is closed; the next request gets a new one.
func TestDirectDropsUnfinishedConnections(t *testing.T) {
	ok := answer("Content-Length: "+strconv.Itoa(len(tokenJSON()))+"\r\n", tokenJSON())
	big := `"` + strings.Repeat("x", maxUpstreamBody) + `"`
	for _, c := range []struct {
		name, first string
		status      int
	}{
		{"trailing bytes", ok + "HTTP/1.1 200 OK\r\n", 200},
		{"body over the limit", answer("Content-Length: "+strconv.Itoa(len(big))+"\r\n", big), 502},
		{"chunked body over the limit", answer("Transfer-Encoding: chunked\r\n", chunked(big)), 502},
		{"endless headers", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 1000)+"\r\n", 2200), 502},
		{"cut off", "HANG UP:" + answer("Content-Length: 1000\r\n", tokenJSON()[:10]), 502},
		{"close-delimited", "HANG UP:" + answer("Connection: close\r\n", tokenJSON()), 200},
		{"marked close, left open", answer("Connection: close\r\nContent-Length: "+strconv.Itoa(len(tokenJSON()))+"\r\n", tokenJSON()), 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			up, conns := scriptedUpstream(t, c.first, ok)
			_, base := directBroker(t, up)
			if status, body := refresh(t, base); status != c.status {
				t.Fatalf("got %d %s, want %d", status, body, c.status)
			}
			if status, body := refresh(t, base); status != 200 || body != tokenJSON() {
				t.Fatalf("the next request got %d %s", status, body)
			}
			if n := conns.Load(); n != 2 {
				t.Errorf("%d connections, want 2: the first must not be reused", n)
			}
		})
	}
}

// TestDirectCallerGoesAway: a caller that hangs up ends the provider
// request at once, and that connection is not reused.
func TestDirectCallerGoesAway(t *testing.T) {
	gone := make(chan struct{})
	var slow atomic.Bool
	slow.Store(true)
	up, conns := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if slow.Load() {
			_, _ = io.Copy(io.Discard, r.Body) // from now on, the server watches the connection
			select {
			case <-r.Context().Done(): // the broker closed it
				close(gone)
			case <-time.After(5 * time.Second):
			}
			return
		}
		tokenHandler(t)(w, r)
	}, false)
	_, base := directBroker(t, up.URL+"/token")
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/token", strings.NewReader(refreshForm().Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	if _, err := testHTTP.Do(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	select {
	case <-gone:
	case <-time.After(time.Second): // the upstream timeout is 2 s
		t.Fatal("the provider request outlived its caller")
	}
	slow.Store(false)
	if status, body := refresh(t, base); status != 200 {
		t.Fatalf("the next request got %d %s", status, body)
	}
	if n := conns.opened.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

// TestDirectTLS: an https provider's certificate is verified; the broker
// speaks HTTP/1.1 over TLS and keeps the connection.
func TestDirectTLS(t *testing.T) {
	up, conns := countingUpstream(t, tokenHandler(t), true)
	_, base := directBroker(t, up.URL+"/token")
	if status, body := refresh(t, base); status != 502 || !strings.Contains(body, "server_error") {
		t.Errorf("a provider whose certificate is not trusted: %d %s", status, body)
	}
	roots := x509.NewCertPool()
	roots.AddCert(up.Certificate())
	_, base = directBroker(t, up.URL+"/token", func(b *Broker) { b.direct.tls.RootCAs = roots })
	for range 3 {
		if status, body := refresh(t, base); status != 200 || body != tokenJSON() {
			t.Fatalf("got %d %s", status, body)
		}
	}
	if n := conns.opened.Load(); n != 2 {
		t.Errorf("%d connections, want 2: the refused one and one kept", n)
	}
}

func TestStillOpen(t *testing.T) {
	if !canPeek {
		t.Skip("no peeking on this platform")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	for _, c := range []struct {
		name string
		peer func(net.Conn)
		want bool
	}{
		{"idle", func(net.Conn) {}, true},
		{"unsolicited bytes", func(c net.Conn) { _, _ = c.Write([]byte("H")) }, false},
		{"closed", func(c net.Conn) { _ = c.Close() }, false},
	} {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		peer := <-accepted
		c.peer(peer)
		time.Sleep(20 * time.Millisecond)
		if got := stillOpen(conn); got != c.want {
			t.Errorf("%s: stillOpen = %v, want %v", c.name, got, c.want)
		}
		conn.Close()
		peer.Close()
	}
}

// TestDirectSweepsIdle: a connection idle for longer than the pool keeps
// one is closed even when no request comes to find it.
func TestDirectSweepsIdle(t *testing.T) {
	up, conns := countingUpstream(t, tokenHandler(t), false)
	b, base := directBroker(t, up.URL+"/token", func(b *Broker) { b.direct.idleFor = 100 * time.Millisecond })
	if status, body := refresh(t, base); status != 200 {
		t.Fatalf("got %d %s", status, body)
	}
	conns.waitClosed(t, 1)
	b.direct.mu.Lock()
	defer b.direct.mu.Unlock()
	if len(b.direct.idle) != 0 || b.direct.sweeping {
		t.Errorf("the pool still holds %v (sweeping %v)", b.direct.idle, b.direct.sweeping)
	}
}

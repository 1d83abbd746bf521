package broker

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// direct makes the round trip to a provider on the calling goroutine, over
// a pool of persistent HTTP/1.1 connections: the request is written, the
// answer read and the connection put back by the handler itself, with no
// hand-off to the reader and writer goroutines an http.Transport keeps per
// connection. Each hand-off can wake a thread on another CPU, and on an
// otherwise idle machine that wake-up, not the work, is most of a
// loopback hop's latency.
//
// A connection is reused only after an answer read to its end and not
// marked close, with nothing left over, and only if the provider has not
// closed it while it sat idle; on any error it is closed. Requests that an
// http.Transport would send through a proxy (HTTP_PROXY, HTTPS_PROXY) are
// left to it.
type direct struct {
	dialer  net.Dialer
	tls     *tls.Config
	maxIdle int           // per host
	idleFor time.Duration // closed when idle longer

	mu       sync.Mutex
	idle     map[string][]*pconn // by scheme://host:port, most recent last
	sweeping bool                // a sweep is scheduled
}

type pconn struct {
	conn  net.Conn
	in    io.LimitedReader // conn, bounded per answer
	br    *bufio.Reader    // reads in
	bw    *bufio.Writer
	since time.Time // idle since
}

// maxAnswer bounds the bytes read for one answer whose body may have limit
// bytes: room for the headers and for chunked framing; an http.Transport
// allows 10 MiB of headers alone. A provider sending more fails the
// request, and its connection is closed.
func maxAnswer(limit int64) int64 { return 2*limit + 64<<10 }

func newDirect(tlsCfg *tls.Config) *direct {
	return &direct{
		dialer:  net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
		tls:     tlsCfg,
		maxIdle: 256,
		idleFor: 90 * time.Second,
		idle:    map[string][]*pconn{},
	}
}

// handles reports whether req may go direct: http or https, no proxy.
func (d *direct) handles(req *http.Request) bool {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return false
	}
	p, err := http.ProxyFromEnvironment(req)
	return err == nil && p == nil
}

// aLongTimeAgo is a deadline that has passed: setting it stops any I/O.
var aLongTimeAgo = time.Unix(1, 0)

// roundTrip sends req and reads the answer, its body bounded by limit
// bytes (one more is read, to tell a body at the limit from a longer one).
// The body is read in full, so the caller gets no Body to close.
func (d *direct) roundTrip(ctx context.Context, req *http.Request, limit int64) (*http.Response, []byte, error) {
	addr := upstreamAddr(req.URL)
	key := req.URL.Scheme + "://" + addr
	pc := d.get(key)
	if pc == nil {
		var err error
		if pc, err = d.dial(ctx, req.URL.Scheme, addr); err != nil {
			return nil, nil, err
		}
	}
	deadline, _ := ctx.Deadline() // zero: none
	_ = pc.conn.SetDeadline(deadline)
	pc.in.N = maxAnswer(limit)
	// A caller that goes away, or the deadline, ends the I/O at once.
	stop := context.AfterFunc(ctx, func() { _ = pc.conn.SetDeadline(aLongTimeAgo) })
	resp, data, err := exchange(pc, req, limit)
	if !stop() || err != nil || resp.Close || len(data) > int(limit) || pc.br.Buffered() > 0 {
		_ = pc.conn.Close()
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		return resp, data, err
	}
	d.put(key, pc)
	return resp, data, nil
}

// exchange writes req on pc and reads one final answer, skipping
// informational (1xx) ones.
func exchange(pc *pconn, req *http.Request, limit int64) (*http.Response, []byte, error) {
	if err := req.Write(pc.bw); err != nil {
		return nil, nil, err
	}
	if err := pc.bw.Flush(); err != nil {
		return nil, nil, err
	}
	for range 5 {
		resp, err := http.ReadResponse(pc.br, req)
		if err != nil {
			return nil, nil, err
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return nil, nil, errors.New("the provider switched protocols")
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 {
			continue
		}
		data, err := readSized(io.LimitReader(resp.Body, limit+1), resp.ContentLength, 64<<10)
		resp.Body = http.NoBody
		return resp, data, err
	}
	return nil, nil, errors.New("the provider sent too many informational answers")
}

func (d *direct) dial(ctx context.Context, scheme, addr string) (*pconn, error) {
	var conn net.Conn
	var err error
	if scheme == "https" {
		cfg := d.tls.Clone()
		cfg.NextProtos = []string{"http/1.1"}
		cfg.ServerName, _, _ = net.SplitHostPort(addr) // the name the certificate must have
		td := tls.Dialer{NetDialer: &d.dialer, Config: cfg}
		conn, err = td.DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	pc := &pconn{conn: conn, in: io.LimitedReader{R: conn}, bw: bufio.NewWriterSize(conn, 4<<10)}
	pc.br = bufio.NewReaderSize(&pc.in, 4<<10)
	return pc, nil
}

// get returns the most recently used idle connection to key that is
// still open, closing those idle too long or closed by the provider.
func (d *direct) get(key string) *pconn {
	now := time.Now()
	for {
		d.mu.Lock()
		list := d.idle[key]
		if len(list) == 0 {
			d.mu.Unlock()
			return nil
		}
		pc := list[len(list)-1]
		list[len(list)-1] = nil
		d.idle[key] = list[:len(list)-1]
		d.mu.Unlock()
		if now.Sub(pc.since) < d.idleFor && stillOpen(pc.conn) {
			return pc
		}
		_ = pc.conn.Close()
	}
}

func (d *direct) put(key string, pc *pconn) {
	// No deadline while idle: the next request sets its own, and one
	// passed would make stillOpen fail.
	_ = pc.conn.SetDeadline(time.Time{})
	pc.since = time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	list := d.idle[key]
	if len(list) >= d.maxIdle {
		_ = pc.conn.Close()
		return
	}
	d.idle[key] = append(list, pc)
	if !d.sweeping {
		d.sweeping = true
		time.AfterFunc(d.idleFor/2, d.sweep)
	}
}

// sweep closes the connections idle for longer than idleFor, and runs
// again while any are left: a provider closes its side of an idle
// connection sooner or later, and the broker's side must not linger.
func (d *direct) sweep() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(time.Now().Add(-d.idleFor))
	if d.sweeping = len(d.idle) > 0; d.sweeping {
		time.AfterFunc(d.idleFor/2, d.sweep)
	}
}

// closeIdle closes every idle connection.
func (d *direct) closeIdle() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(time.Now().Add(time.Hour))
}

// expire closes the idle connections put back before t; d.mu is held.
func (d *direct) expire(t time.Time) {
	for k, list := range d.idle {
		n := 0
		for n < len(list) && list[n].since.Before(t) { // oldest first
			_ = list[n].conn.Close()
			n++
		}
		if n == len(list) {
			delete(d.idle, k)
		} else if n > 0 {
			d.idle[k] = append(list[:0], list[n:]...)
		}
	}
}

// upstreamAddr is u's host and port, the scheme's default port when it names
// none.
func upstreamAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// closeIdleUpstream closes the idle connections to providers, of both
// paths.
func (b *Broker) closeIdleUpstream() {
	b.http.CloseIdleConnections()
	if b.direct != nil {
		b.direct.closeIdle()
	}
}

package broker

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowConn is what became of one slow connection.
type slowConn struct {
	opened, closed time.Time
	received       string // what the server sent back
	cutOff         bool   // the server ended the connection, rather than the test's own deadline
}

// holdSlow sends on conn, when trickle is set, an endless request line
// and headers one byte per interval; otherwise nothing. It reports when
// the server hangs up, or gives up at deadline.
func holdSlow(conn net.Conn, opened time.Time, trickle bool, interval time.Duration, deadline time.Time, closedCount *atomic.Int32) slowConn {
	defer conn.Close()
	sc := slowConn{opened: opened}
	stop := make(chan struct{})
	defer close(stop)
	if trickle {
		go func() {
			// Header lines never end with the blank line that would
			// complete the request.
			for i := 0; ; i++ {
				line := "POST /token HTTP/1.1\r\n"
				if i > 0 {
					line = fmt.Sprintf("X-Slow-%d: a\r\n", i)
				}
				for j := range len(line) {
					select {
					case <-stop:
						return
					case <-time.After(interval):
					}
					if _, err := conn.Write([]byte{line[j]}); err != nil {
						return
					}
				}
			}
		}()
	}
	_ = conn.SetReadDeadline(deadline)
	got, err := io.ReadAll(io.LimitReader(conn, 4096))
	sc.closed, sc.received = time.Now(), string(got)
	sc.cutOff = err == nil || isClosed(err)
	if sc.cutOff {
		closedCount.Add(1)
	}
	return sc
}

// TestSlowlorisDoesNotStarveClients holds 200 connections that never
// finish their headers (half silent, half sending a byte every 50 ms):
// a normal client still gets its /token answer at once, and the server
// cuts every slow connection off after ReadHeaderTimeout without a reply.
func TestSlowlorisDoesNotStarveClients(t *testing.T) {
	const slow = 200
	limits := connLimits{readHeader: 2 * time.Second, read: 4 * time.Second, idle: 2 * time.Second}
	srv, idp := startLimited(t, limits, nil)
	addr := hostPort(srv)

	var closedCount atomic.Int32
	var wg sync.WaitGroup
	results := make([]slowConn, slow)
	deadline := time.Now().Add(limits.readHeader + 10*time.Second)
	for i := range slow {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("slow connection %d: %v", i, err)
		}
		opened := time.Now()
		wg.Go(func() { results[i] = holdSlow(conn, opened, i%2 == 1, 50*time.Millisecond, deadline, &closedCount) })
	}
	time.Sleep(200 * time.Millisecond) // the trickling ones have begun their request line

	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	var slowest time.Duration
	for range 5 {
		start := time.Now()
		resp, err := hc.Post(srv.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader(refreshForm().Encode()))
		if err != nil {
			t.Fatalf("a normal client among %d slow ones: %v", slow, err)
		}
		body := readBody(t, resp)
		resp.Body.Close()
		d := time.Since(start)
		slowest = max(slowest, d)
		if resp.StatusCode != 200 || body != tokenJSON() {
			t.Errorf("a normal client got %d %s", resp.StatusCode, body)
		}
	}
	if n := closedCount.Load(); n != 0 {
		t.Fatalf("%d slow connections were already cut off when the normal client finished, so it did not compete with them", n)
	}
	if slowest > time.Second {
		t.Errorf("a normal client waited %v among %d slow connections", slowest, slow)
	}
	t.Logf("normal client: slowest of 5 requests %v among %d slow connections", slowest, slow)

	wg.Wait()
	var shortest, longest time.Duration
	for i, sc := range results {
		held := sc.closed.Sub(sc.opened)
		if i == 0 || held < shortest {
			shortest = held
		}
		longest = max(longest, held)
		switch {
		case !sc.cutOff:
			t.Errorf("slow connection %d was still open after %v", i, held)
		case sc.received != "" && !strings.HasPrefix(sc.received, "HTTP/1.1 400 Bad Request\r\n"):
			// Go answers 400 when the headers had begun, nothing otherwise.
			t.Errorf("slow connection %d got %q back, want nothing or Go's 400", i, sc.received)
		case held < limits.readHeader-250*time.Millisecond:
			t.Errorf("slow connection %d was cut off after %v, before ReadHeaderTimeout %v", i, held, limits.readHeader)
		case held > limits.readHeader+3*time.Second:
			t.Errorf("slow connection %d was cut off only after %v, ReadHeaderTimeout being %v", i, held, limits.readHeader)
		}
	}
	t.Logf("%d slow connections cut off after %v to %v (ReadHeaderTimeout %v)", slow, shortest.Round(time.Millisecond),
		longest.Round(time.Millisecond), limits.readHeader)
	if got := len(idp.requests()); got != 5 {
		t.Errorf("the provider received %d requests, want the normal client's 5", got)
	}
}

// TestSlowBodyIsCutOff sends complete headers and then the body one byte
// every 100 ms, from 50 connections at once: each gets the broker's 400
// once ReadTimeout has passed, and is closed; nothing reaches the provider
// and the broker holds no request afterwards.
func TestSlowBodyIsCutOff(t *testing.T) {
	const clients = 50
	limits := connLimits{readHeader: time.Second, read: 2 * time.Second, idle: time.Second}
	srv, idp := startLimited(t, limits, nil)
	addr := hostPort(srv)
	body := refreshForm().Encode() // about 90 bytes: 9 s at this pace

	type outcome struct {
		res  rawResult
		took time.Duration
		err  error
	}
	out := make([]outcome, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				out[i].err = err
				return
			}
			defer conn.Close()
			start := time.Now()
			raw := formRequest(body)
			head := raw[:len(raw)-len(body)]
			if _, err := io.WriteString(conn, head); err != nil {
				out[i].err = err
				return
			}
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for j := range len(body) {
					select {
					case <-stop:
						return
					case <-time.After(100 * time.Millisecond):
					}
					if _, err := conn.Write([]byte{body[j]}); err != nil {
						return
					}
				}
			}()
			out[i].res = readAll(conn, time.Now().Add(limits.read+5*time.Second))
			out[i].took = time.Since(start)
		})
	}
	// Meanwhile a normal client is served at once.
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	resp, err := testHTTP.Post(srv.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader(refreshForm().Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if readBody(t, resp); resp.StatusCode != 200 || time.Since(start) > time.Second {
		t.Errorf("a normal client among slow bodies: %d after %v", resp.StatusCode, time.Since(start))
	}
	resp.Body.Close()
	wg.Wait()

	var longest time.Duration
	for i, o := range out {
		if o.err != nil {
			t.Fatalf("client %d: %v", i, o.err)
		}
		longest = max(longest, o.took)
		if len(o.res.responses) != 1 || !o.res.closed {
			t.Errorf("client %d: got %+v after %v, want one answer and the connection closed", i, o.res, o.took)
			continue
		}
		checkJSONRefusal(t, o.res.responses[0], http.StatusBadRequest)
		if o.took < limits.read-250*time.Millisecond || o.took > limits.read+3*time.Second {
			t.Errorf("client %d: answered after %v, want about ReadTimeout %v", i, o.took, limits.read)
		}
	}
	t.Logf("%d slow bodies refused and closed within %v (ReadTimeout %v)", clients, longest.Round(time.Millisecond), limits.read)
	if got := len(idp.requests()); got != 1 {
		t.Errorf("the provider received %d requests, want only the normal client's", got)
	}
	if n := srv.Broker.metrics.inFlight.Load(); n != 0 {
		t.Errorf("%d requests still in flight", n)
	}
}

// TestIdleConnectionsAreClosed keeps a connection open after a served
// request, silent or starting the next request a byte at a time: the
// server closes it after IdleTimeout, plus ReadHeaderTimeout once the
// next request has begun.
func TestIdleConnectionsAreClosed(t *testing.T) {
	limits := connLimits{readHeader: time.Second, read: 2 * time.Second, idle: time.Second}
	srv, _ := startLimited(t, limits, nil)
	addr := hostPort(srv)
	for _, trickle := range []bool{false, true} {
		t.Run(fmt.Sprintf("trickle=%v", trickle), func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, formRequest(refreshForm().Encode())); err != nil {
				t.Fatal(err)
			}
			served := time.Now()
			if trickle {
				go func() {
					for _, c := range []byte("POST /token HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") {
						time.Sleep(50 * time.Millisecond)
						if _, err := conn.Write([]byte{c}); err != nil {
							return
						}
					}
				}()
			}
			res := readAll(conn, time.Now().Add(limits.idle+limits.readHeader+5*time.Second))
			held := time.Since(served)
			// Go answers a request whose headers had begun but timed out
			// with a plain 400 before closing.
			n := len(res.responses)
			if n < 1 || res.responses[0].status != 200 || !res.closed || n > 2 ||
				n == 2 && (!trickle || res.responses[1].status != http.StatusBadRequest) {
				t.Fatalf("got %+v after %v, want one 200 and then the connection closed", res, held)
			}
			limit := limits.idle
			if trickle {
				limit = 200*time.Millisecond + limits.readHeader // four bytes end the idle wait
			}
			if held < limit-250*time.Millisecond || held > limit+3*time.Second {
				t.Errorf("closed after %v, want about %v", held, limit)
			}
		})
	}
}

// readAll reads responses off conn until the server closes it or deadline.
func readAll(conn net.Conn, deadline time.Time) rawResult {
	_ = conn.SetReadDeadline(deadline)
	var res rawResult
	br := bufio.NewReader(conn)
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			res.closed = isClosed(err)
			return res
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		res.responses = append(res.responses, rawResponse{status: resp.StatusCode, header: resp.Header, body: string(body)})
	}
}

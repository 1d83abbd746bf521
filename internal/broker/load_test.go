package broker

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gatedUpstream is a provider that answers token requests at once, but
// only once released: holding them lets the test see every request in
// flight through the broker together.
type gatedUpstream struct {
	srv      *httptest.Server
	release  chan struct{}
	inFlight atomic.Int32
}

func newGatedUpstream(t *testing.T) *gatedUpstream {
	u := &gatedUpstream{release: make(chan struct{})}
	body := []byte(tokenJSON())
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/openid-configuration" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"issuer":"`+u.srv.URL+`","authorization_endpoint":"`+u.srv.URL+
				`/auth","token_endpoint":"`+u.srv.URL+`/token"}`)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		u.inFlight.Add(1)
		select {
		case <-u.release:
		case <-r.Context().Done():
		}
		u.inFlight.Add(-1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

// memSample is the process's memory and goroutines at one moment.
type memSample struct {
	heapInuse, rss uint64
	goroutines     int
}

func sampleMem() memSample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSample{heapInuse: ms.HeapInuse, rss: procStatus("VmRSS"), goroutines: runtime.NumGoroutine()}
}

// procStatus reads a size from /proc/self/status, in bytes; 0 where
// there is no such file.
func procStatus(key string) uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(b uint64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// waitGoroutines polls until at most limit goroutines remain, for up to
// five seconds, and returns the last count.
func waitGoroutines(limit int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); n > limit && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(20 * time.Millisecond)
	}
	return n
}

// TestTwoThousandConcurrentConnections opens 2,000 connections to a
// broker served as Start serves it, then has each POST /token at once,
// all held at the provider together: every answer is the provider's 200
// (or a deliberate refusal), never a 5xx of the broker's own; the heap
// stays bounded; and once the clients hang up, the goroutines go back to
// what they were.
func TestTwoThousandConcurrentConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 8,000 sockets")
	}
	const n = 2000
	// Each request holds four sockets in this process: the client's, the
	// broker's end of it, the broker's to the provider and the
	// provider's end of that.
	raiseFileLimit(t, 4*n+1024)
	up := newGatedUpstream(t)
	cfg := Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.RateLimit, cfg.RateBurst = 1e9, 1e9 // exercised, never refusing
	cfg.UpstreamTimeout = 30 * time.Second
	cfg.Clients = []Client{{ID: testClientID, Issuer: up.srv.URL, Secret: testSecret}}
	b, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Every connection is opened before any sends a byte, which takes
	// longer than the production ReadHeaderTimeout on a slow machine.
	b.conn = connLimits{readHeader: 30 * time.Second, read: 30 * time.Second, idle: 30 * time.Second}
	srv, err := b.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	addr := hostPort(srv)
	request := []byte(formRequest(refreshForm().Encode()))

	runtime.GC()
	before := sampleMem()

	// Sample the heap throughout, for its peak.
	var peakHeap, peakGoroutines atomic.Uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			s := sampleMem()
			if s.heapInuse > peakHeap.Load() {
				peakHeap.Store(s.heapInuse)
			}
			if uint64(s.goroutines) > peakGoroutines.Load() {
				peakGoroutines.Store(uint64(s.goroutines))
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(25 * time.Millisecond):
			}
		}
	}()
	defer func() {
		select {
		case <-stopSampling:
		default:
			close(stopSampling)
		}
	}()

	conns := make([]net.Conn, n)
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	dialStart := time.Now()
	for i := range conns {
		if conns[i], err = net.Dial("tcp", addr); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
	dialed := time.Since(dialStart)

	statuses := make([]int, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			<-start
			_ = c.SetDeadline(time.Now().Add(40 * time.Second))
			if _, err := c.Write(request); err != nil {
				errs[i] = err
				return
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				errs[i] = err
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
			if err == nil && resp.StatusCode == 200 && string(body) != tokenJSON() {
				err = fmt.Errorf("200 with %q", body)
			}
			errs[i] = err
		})
	}
	sendStart := time.Now()
	close(start)

	// Until every request waits at the provider (or 20 s pass, which
	// fails below), all 2,000 are in flight through the broker at once.
	held := up.inFlight.Load()
	for deadline := time.Now().Add(20 * time.Second); held < n && time.Now().Before(deadline); held = up.inFlight.Load() {
		time.Sleep(10 * time.Millisecond)
	}
	allHeld := time.Since(sendStart)
	brokerInFlight := b.metrics.inFlight.Load()
	atPeak := sampleMem()
	close(up.release)
	wg.Wait()
	answered := time.Since(sendStart)
	afterAnswers := sampleMem()

	counts := map[string]int{}
	for i := range n {
		switch {
		case errs[i] != nil:
			counts["error: "+errs[i].Error()]++
		default:
			counts[strconv.Itoa(statuses[i])]++
		}
	}
	keys := slices.Sorted(maps.Keys(counts))
	var summary []string
	for _, k := range keys {
		summary = append(summary, fmt.Sprintf("%s×%d", k, counts[k]))
	}

	// The clients hang up: the broker's side of each connection ends.
	// What may remain is the broker's pool of idle connections to the
	// provider (one goroutine each in the provider's server, and two in
	// the broker's when an http.Transport holds them), bounded by
	// MaxIdleConnsPerHost; closing it leaves the baseline.
	for _, c := range conns {
		c.Close()
	}
	pool := NewUpstreamClient().Transport.(*http.Transport).MaxIdleConnsPerHost
	withPool := waitGoroutines(before.goroutines + 3*pool + 10)
	b.closeIdleUpstream()
	const margin = 10
	final := waitGoroutines(before.goroutines + margin)
	close(stopSampling)
	<-sampled
	// Two collections empty sync.Pool's caches of connection buffers.
	runtime.GC()
	debug.FreeOSMemory()
	after := sampleMem()

	t.Logf("statuses: %s", strings.Join(summary, ", "))
	t.Logf("timing: %d connections opened in %v; all %d held at the provider after %v (broker in-flight gauge %d); all answered after %v",
		n, dialed.Round(time.Millisecond), held, allHeld.Round(time.Millisecond), brokerInFlight, answered.Round(time.Millisecond))
	t.Logf("heap in use: before %s, at the moment all were held %s, peak %s, after the answers %s, after hanging up and GC %s",
		mib(before.heapInuse), mib(atPeak.heapInuse), mib(peakHeap.Load()), mib(afterAnswers.heapInuse), mib(after.heapInuse))
	t.Logf("RSS: before %s, with all held %s, after the answers %s, after hanging up and FreeOSMemory %s, high-water mark %s",
		mib(before.rss), mib(atPeak.rss), mib(afterAnswers.rss), mib(after.rss), mib(procStatus("VmHWM")))
	t.Logf("goroutines: before %d, peak %d, after the clients hung up %d (idle provider pool kept), after closing that pool %d",
		before.goroutines, peakGoroutines.Load(), withPool, final)

	if counts["200"]+counts["429"] != n {
		t.Errorf("want every answer to be the provider's 200 or a deliberate 429, got %s", strings.Join(summary, ", "))
	}
	if held != n || brokerInFlight != n {
		t.Errorf("only %d requests reached the provider together (broker in flight: %d), want %d", held, brokerInFlight, n)
	}
	if peak := peakHeap.Load(); peak > 256<<20 {
		t.Errorf("peak heap in use %s, want under 256 MiB", mib(peak))
	}
	if after.heapInuse > before.heapInuse+32<<20 {
		t.Errorf("heap in use %s after everything ended, %s before", mib(after.heapInuse), mib(before.heapInuse))
	}
	if withPool > before.goroutines+3*pool+10 {
		t.Errorf("%d goroutines after the clients hung up, want at most %d + %d for the idle pool", withPool, before.goroutines, 3*pool+10)
	}
	if final > before.goroutines+margin {
		t.Errorf("goroutine leak: %d goroutines once the clients and the idle pool are closed, %d before", final, before.goroutines)
		buf := make([]byte, 64<<10)
		t.Logf("%s", buf[:runtime.Stack(buf, true)])
	}
}

// Command brokerload measures sesame-broker under load against a fast local
// upstream token endpoint. Three targets take turns in the same run, with
// the same upstream and the same load generator: the upstream called
// directly, a bare httputil.ReverseProxy forwarding to it (the cost of any
// proxy hop on this machine), and the broker. Each is measured at -conns
// connections and at one, for -rounds rounds in rotating order, and the
// medians are printed side by side with the broker/proxy throughput ratio
// and the latency the broker adds over direct at one connection. Then the
// broker's resident memory while it holds many concurrent connections.
//
//	go build -o /tmp/sesame-broker ./cmd/sesame-broker
//	go run ./bench/brokerload -broker /tmp/sesame-broker [-baseline /tmp/old-broker]
//
// -baseline adds a second broker binary (an older build) to every round,
// so that before and after are measured under the same load.
// Everything runs on 127.0.0.1; every phase is bounded in time.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const tokenJSON = `{"access_token":"at-0123456789abcdef0123456789abcdef","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-0123456789abcdef0123456789abcdef","scope":"openid"}`

// The bounds the broker is held to.
const (
	minProxyRatio = 0.8
	maxAddedP50   = 100 * time.Microsecond
	maxAddedP99   = 500 * time.Microsecond
)

func main() {
	bin := flag.String("broker", "", "path to the sesame-broker binary")
	baseline := flag.String("baseline", "", "optional second sesame-broker binary measured in the same rounds")
	conns := flag.Int("conns", 32, "concurrent connections for the throughput phases")
	dur := flag.Duration("duration", 3*time.Second, "length of each measured phase")
	rounds := flag.Int("rounds", 3, "rounds over all targets, in rotating order")
	many := flag.Int("rss-conns", 1000, "concurrent connections for the memory phase")
	proxyTo := flag.String("reverse-proxy-to", "", "internal: serve as the bare reverse proxy to this URL")
	flag.Parse()
	if *proxyTo != "" {
		if err := serveProxy(*proxyTo); err != nil {
			fmt.Fprintln(os.Stderr, "brokerload proxy:", err)
			os.Exit(1)
		}
		return
	}
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "usage: brokerload -broker PATH [-baseline PATH]")
		os.Exit(2)
	}
	if err := run(*bin, *baseline, *conns, *many, *rounds, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "brokerload:", err)
		os.Exit(1)
	}
}

type target struct {
	name, url string
	res       map[int][]result // by connection count, one per round
}

func run(bin, baseline string, conns, many, rounds int, dur time.Duration) error {
	upstream, err := startUpstream()
	if err != nil {
		return err
	}
	brokerURL, pid, stop, err := startBroker(bin, upstream+"/token")
	if err != nil {
		return err
	}
	defer stop()
	proxyURL, stopProxy, err := startProxy(upstream)
	if err != nil {
		return err
	}
	defer stopProxy()
	targets := []*target{
		{name: "direct to upstream", url: upstream + "/token"},
		{name: "bare httputil.ReverseProxy", url: proxyURL + "/token"},
		{name: "sesame-broker", url: brokerURL + "/token"},
	}
	if baseline != "" {
		baseURL, _, stopBase, err := startBroker(baseline, upstream+"/token")
		if err != nil {
			return err
		}
		defer stopBase()
		targets = append(targets, &target{name: "sesame-broker (baseline)", url: baseURL + "/token"})
	}
	idle := rssKiB(pid)
	loadBefore := loadavg()

	levels := []int{conns, 1}
	for _, t := range targets {
		t.res = map[int][]result{}
		load(t.url, conns, dur/4) // warm-up: connections, pools, page cache
	}
	for r := range rounds {
		for _, n := range levels {
			for i := range targets {
				t := targets[(i+r)%len(targets)] // rotate who goes first
				t.res[n] = append(t.res[n], load(t.url, n, dur))
			}
		}
	}

	fmt.Printf("medians of %d rounds of %v per target and level; load average before: %s\n\n", rounds, dur, loadBefore)
	fmt.Printf("| target | conns | req/s | p50 | p99 | errors | non-200 |\n|---|---|---|---|---|---|---|\n")
	med := map[string]map[int]result{}
	for _, n := range levels {
		for _, t := range targets {
			m := median(t.res[n])
			if med[t.name] == nil {
				med[t.name] = map[int]result{}
			}
			med[t.name][n] = m
			fmt.Printf("| %s | %d | %.0f | %s | %s | %d | %d |\n", t.name, n, m.rps, m.p50, m.p99, m.errors, m.non200)
		}
	}
	direct, proxy := med[targets[0].name], med[targets[1].name]
	fmt.Println()
	for _, t := range targets[1:] {
		m := med[t.name]
		fmt.Printf("%s: throughput %.2f× proxy at %d conns, %.2f× at 1 (%.2f× / %.2f× direct); added over direct at 1 conn: p50 %s, p99 %s\n",
			t.name, m[conns].rps/proxy[conns].rps, conns, m[1].rps/proxy[1].rps,
			m[conns].rps/direct[conns].rps, m[1].rps/direct[1].rps,
			m[1].p50-direct[1].p50, m[1].p99-direct[1].p99)
	}
	b := med[targets[2].name]
	fmt.Printf("\ntargets for sesame-broker: throughput ≥ %.1f× proxy at %d conns: %s; added p50 ≤ %s: %s; added p99 ≤ %s: %s\n",
		minProxyRatio, conns, verdict(b[conns].rps >= minProxyRatio*proxy[conns].rps),
		maxAddedP50, verdict(b[1].p50-direct[1].p50 <= maxAddedP50),
		maxAddedP99, verdict(b[1].p99-direct[1].p99 <= maxAddedP99))
	fmt.Printf("load average after: %s\n", loadavg())

	peak := int64(0)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
				if r := rssKiB(pid); r > atomic.LoadInt64(&peak) {
					atomic.StoreInt64(&peak, r)
				}
			}
		}
	}()
	heavy := load(brokerURL+"/token", many, dur)
	close(done)
	fmt.Printf("\nbroker RSS: idle %d KiB, peak %d KiB with %d concurrent connections (%.0f req/s, %d errors, %d statuses other than 200)\n",
		idle, atomic.LoadInt64(&peak), many, heavy.rps, heavy.errors, heavy.non200)
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// median takes each figure's median across rounds separately.
func median(rs []result) result {
	pick := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	var m result
	m.rps = pick(func(r result) float64 { return r.rps })
	m.p50 = time.Duration(pick(func(r result) float64 { return float64(r.p50) }))
	m.p99 = time.Duration(pick(func(r result) float64 { return float64(r.p99) }))
	for _, r := range rs {
		m.errors += r.errors
		m.non200 += r.non200
	}
	return m
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}

// serveProxy is the bare reverse proxy, run as a process of its own like
// the broker: httputil.ReverseProxy with nothing added but an upstream pool
// sized as the broker sizes its own (the default two idle connections per
// host would make it reconnect under load, measuring that rather than the
// hop). It prints its URL on stdout.
func serveProxy(to string) error {
	u, err := url.Parse(to)
	if err != nil {
		return err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 512, 256
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		Transport: t,
		// The load generator ends each phase by canceling its requests.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println("http://" + ln.Addr().String())
	return http.Serve(ln, rp)
}

// startProxy runs this program again as the bare reverse proxy.
func startProxy(upstream string) (url string, stop func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(self, "-reverse-proxy-to", upstream)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() { cmd.Process.Kill(); cmd.Wait() }
	found := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		if s.Scan() {
			found <- s.Text()
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case url = <-found:
		return url, stop, nil
	case <-time.After(10 * time.Second):
		stop()
		return "", nil, fmt.Errorf("reverse proxy did not start")
	}
}

// startUpstream serves a canned token response, as fast as net/http goes.
func startUpstream() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, tokenJSON)
	})
	go http.Serve(ln, h)
	return "http://" + ln.Addr().String(), nil
}

func startBroker(bin, tokenURL string) (url string, pid int, stop func(), err error) {
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--token-url", tokenURL, "--client-id", "bench",
		"--rate-limit", "0", "--log-format", "json")
	cmd.Env = []string{"SESAME_BROKER_CLIENT_SECRET=bench-secret"}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	stop = func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }
	found := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			var l map[string]any
			if json.Unmarshal(s.Bytes(), &l) == nil && l["msg"] == "listening" {
				found <- l["url"].(string)
				break
			}
		}
		io.Copy(io.Discard, out) // request logs: the broker's real cost, not ours to keep
	}()
	select {
	case url = <-found:
		return url, cmd.Process.Pid, stop, nil
	case <-time.After(10 * time.Second):
		stop()
		return "", 0, nil, fmt.Errorf("broker did not start")
	}
}

type result struct {
	rps            float64
	p50, p99       time.Duration
	errors, non200 int
}

// load keeps conns keep-alive connections busy with refresh_token grants.
func load(url string, conns int, dur time.Duration) result {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	body := "grant_type=refresh_token&refresh_token=rt-0123456789abcdef&client_id=bench"
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var errs, non200 int
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			e, n := 0, 0
			for ctx.Err() == nil {
				t := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						e++
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					n++
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat, errs, non200 = append(lat, mine...), errs+e, non200+n
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[int(float64(len(lat)-1)*p)].Round(time.Microsecond)
	}
	return result{rps: float64(len(lat)) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99), errors: errs, non200: non200}
}

// rssKiB reads the process's resident set from /proc (Linux only).
func rssKiB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			n, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return n
		}
	}
	return -1
}

// Command brokerload measures sesame-broker under load against a fast local
// upstream token endpoint: throughput and latency through the broker next to
// the same requests sent straight to the upstream in the same run, then the
// broker's resident memory while it holds many concurrent connections.
//
//	go build -o /tmp/sesame-broker ./cmd/sesame-broker
//	go run ./bench/brokerload -broker /tmp/sesame-broker
//
// Everything runs on 127.0.0.1; every phase is bounded in time.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
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

func main() {
	bin := flag.String("broker", "", "path to the sesame-broker binary")
	conns := flag.Int("conns", 32, "concurrent connections for the throughput phases")
	dur := flag.Duration("duration", 8*time.Second, "length of each throughput phase")
	many := flag.Int("rss-conns", 1000, "concurrent connections for the memory phase")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "usage: brokerload -broker PATH")
		os.Exit(2)
	}
	if err := run(*bin, *conns, *many, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "brokerload:", err)
		os.Exit(1)
	}
}

func run(bin string, conns, many int, dur time.Duration) error {
	upstream, err := startUpstream()
	if err != nil {
		return err
	}
	brokerURL, pid, stop, err := startBroker(bin, upstream+"/token")
	if err != nil {
		return err
	}
	defer stop()

	idle := rssKiB(pid)
	direct := load(upstream+"/token", conns, dur)
	via := load(brokerURL+"/token", conns, dur)
	fmt.Printf("| path | conns | req/s | p50 | p99 | errors |\n|---|---|---|---|---|---|\n")
	for _, r := range []struct {
		name string
		res  result
	}{{"direct to upstream", direct}, {"through sesame-broker", via}} {
		fmt.Printf("| %s | %d | %.0f | %s | %s | %d |\n", r.name, conns, r.res.rps, r.res.p50, r.res.p99, r.res.errors)
	}
	fmt.Printf("\nadded latency: p50 %s, p99 %s\n", via.p50-direct.p50, via.p99-direct.p99)

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
	heavy := load(brokerURL+"/token", many, dur/2)
	close(done)
	fmt.Printf("\nbroker RSS: idle %d KiB, peak %d KiB with %d concurrent connections (%.0f req/s, %d errors, %d statuses other than 200)\n",
		idle, atomic.LoadInt64(&peak), many, heavy.rps, heavy.errors, heavy.non200)
	return nil
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

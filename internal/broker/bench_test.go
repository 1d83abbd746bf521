package broker

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// The benchmarks compare a refresh sent through the broker with the same
// refresh sent straight to the same kind of local provider, which answers
// at once: the difference is what the broker adds (parsing, validation,
// rate limiting, logging to a discarded JSON stream, one more HTTP hop).
//
//	go test -run='^$' -bench='BrokerToken|DirectUpstream' -benchmem ./internal/broker/

func benchUpstream(b *testing.B) *httptest.Server {
	body := []byte(tokenJSON())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/openid-configuration" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"issuer":"http://`+r.Host+`","authorization_endpoint":"http://`+r.Host+
				`/auth","token_endpoint":"http://`+r.Host+`/token"}`)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// benchRun posts body to target b.N times, serially (reporting latency
// percentiles) and in parallel (throughput).
func benchRun(b *testing.B, target, body string, header http.Header) {
	hc := benchClient()
	do := func() {
		req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
		req.Header = header.Clone()
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		lat := make([]time.Duration, 0, b.N)
		for b.Loop() {
			start := time.Now()
			do()
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				do()
			}
		})
	})
}

func BenchmarkDirectUpstream(b *testing.B) {
	up := benchUpstream(b)
	form := url.Values{"grant_type": {GrantRefreshToken}, "refresh_token": {testRefresh}}
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	header.Set("Authorization", basicAuth(testClientID, testSecret))
	benchRun(b, up.URL+"/token", form.Encode(), header)
}

func BenchmarkBrokerToken(b *testing.B) {
	up := benchUpstream(b)
	cfg := Defaults()
	cfg.RateLimit, cfg.RateBurst = 1e9, 1e9 // exercised, never refusing
	cfg.Clients = []Client{{ID: testClientID, Issuer: up.URL, Secret: testSecret}}
	log, _ := NewLogger(io.Discard, "json", "info")
	br, err := New(cfg, Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	if err := br.Discover(b.Context()); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(br)
	b.Cleanup(srv.Close)
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	benchRun(b, srv.URL+"/token", refreshForm().Encode(), header)
}

// cannedTransport answers every request with the same token response,
// without a network: BenchmarkBrokerHandler measures the broker's own work
// per request (validation, the upstream request and reply checks, logging,
// metrics) apart from the HTTP hops, which any proxy pays.
type cannedTransport struct{ body []byte }

func (t cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{
		StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}},
		Body:          io.NopCloser(strings.NewReader(string(t.body))),
		ContentLength: int64(len(t.body)), Request: r,
	}, nil
}

func BenchmarkBrokerHandler(b *testing.B) {
	cfg := Defaults()
	cfg.RateLimit, cfg.RateBurst = 1e9, 1e9 // exercised, never refusing
	cfg.Clients = []Client{{ID: testClientID, TokenURL: "http://127.0.0.1:1/token", Secret: testSecret}}
	log, _ := NewLogger(io.Discard, "json", "info")
	br, err := New(cfg, Options{Logger: log, HTTP: &http.Client{Transport: cannedTransport{[]byte(tokenJSON())}}})
	if err != nil {
		b.Fatal(err)
	}
	body := refreshForm().Encode()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			br.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// TestReadSized holds readSized to io.ReadAll's answer whatever the declared
// length says: right, too small, too large, unknown, above the limit.
func TestReadSized(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 70000} {
		data := strings.Repeat("x", n)
		for _, declared := range []int64{-1, 0, int64(n) - 1, int64(n), int64(n) + 1, 1 << 30} {
			got, err := readSized(iotest.OneByteReader(strings.NewReader(data)), declared, 1<<20)
			if err != nil || string(got) != data {
				t.Errorf("n=%d declared=%d: %d bytes, %v", n, declared, len(got), err)
			}
			got, err = readSized(strings.NewReader(data), declared, 1<<20)
			if err != nil || string(got) != data {
				t.Errorf("n=%d declared=%d: %d bytes, %v", n, declared, len(got), err)
			}
		}
	}
	boom := errors.New("boom")
	got, err := readSized(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom)), 10, 1<<20)
	if string(got) != "abc" || err != boom {
		t.Errorf("error: %q, %v", got, err)
	}
}

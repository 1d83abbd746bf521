package broker

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func msDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

// fakeClock is a settable clock for the limiter.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestRateLimit(t *testing.T) {
	tb := newTestBroker(t, func(cfg *Config, _ *fakeIdP) { cfg.RateLimit, cfg.RateBurst = 0.5, 2 })
	for i := range 2 {
		if resp := tb.post(t, "/token", refreshForm().Encode()); resp.StatusCode != 200 {
			t.Fatalf("request %d within the burst: %d", i, resp.StatusCode)
		}
	}
	resp := tb.post(t, "/token", refreshForm().Encode())
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	checkOAuthError(t, resp, http.StatusTooManyRequests, "temporarily_unavailable")
	if err != nil || retry < 1 || retry > 2 {
		t.Errorf("Retry-After = %q, want 1 or 2 seconds", resp.Header.Get("Retry-After"))
	}
	if got := len(tb.idp.requests()); got != 2 {
		t.Errorf("the provider saw %d requests, want 2", got)
	}
	// Probes are not limited: a load balancer must always reach them.
	if status, _, _ := get(t, tb.srv.URL+"/healthz"); status != 200 {
		t.Errorf("healthz under rate limit = %d", status)
	}
	_, body, _ := get(t, tb.srv.URL+"/metrics")
	if !strings.Contains(body, "sesame_broker_rate_limited_total 1\n") ||
		!strings.Contains(body, `outcome="rate_limited"} 1`) {
		t.Errorf("metrics do not count the refusal:\n%s", body)
	}
}

func TestLimiterPerAddress(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	l := newLimiter(1, 1, clock.Now)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	if ok, _ := l.allow(a); !ok {
		t.Fatal("first request refused")
	}
	if ok, retry := l.allow(a); ok || retry != 1 {
		t.Errorf("second request: ok=%v retry=%d, want refused with 1s", ok, retry)
	}
	if ok, _ := l.allow(b); !ok {
		t.Error("another address shares the bucket")
	}
	// IPv6 addresses in one /64 share a bucket.
	v6a, v6b := netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9")
	l.allow(v6a)
	if ok, _ := l.allow(v6b); ok {
		t.Error("a second address in the same /64 got its own bucket")
	}
	clock.Add(time.Second)
	if ok, _ := l.allow(a); !ok {
		t.Error("no token after the refill time")
	}
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	l := newLimiter(10, 20, clock.Now) // a bucket refills in 2s
	for i := range 1000 {
		l.allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
	}
	if l.size() != 1000 {
		t.Fatalf("size = %d", l.size())
	}
	clock.Add(3 * time.Second)
	l.allow(netip.MustParseAddr("192.0.2.1"))
	if l.size() != 1 {
		t.Errorf("after the idle time, size = %d, want the idle entries gone", l.size())
	}
	for i := range maxLimiters + 100 {
		l.allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	if l.size() > maxLimiters {
		t.Errorf("size = %d, above the cap %d", l.size(), maxLimiters)
	}
}

func TestDisabledLimiter(t *testing.T) {
	var l *limiter = newLimiter(0, 20, time.Now)
	for range 100 {
		if ok, _ := l.allow(netip.MustParseAddr("192.0.2.1")); !ok {
			t.Fatal("rate_limit 0 still limits")
		}
	}
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct", "192.0.2.7:5555", nil, "192.0.2.7"},
		{"untrusted peer's header ignored", "192.0.2.7:5555", []string{"203.0.113.9"}, "192.0.2.7"},
		{"trusted proxy", "10.1.2.3:443", []string{"203.0.113.9"}, "203.0.113.9"},
		{"spoofed left entries ignored", "10.1.2.3:443", []string{"1.1.1.1, 203.0.113.9"}, "203.0.113.9"},
		{"chain of trusted proxies", "10.1.2.3:443", []string{"203.0.113.9, 10.9.9.9", "10.8.8.8"}, "203.0.113.9"},
		{"garbage stops at the proxy", "10.1.2.3:443", []string{"203.0.113.9, nonsense"}, "10.1.2.3"},
		{"IPv6 proxy", "[::1]:443", []string{"2001:db8::5"}, "2001:db8::5"},
		{"port in header", "10.1.2.3:443", []string{"203.0.113.9:1234"}, "203.0.113.9"},
		{"IPv4-mapped peer", "[::ffff:192.0.2.7]:1", nil, "192.0.2.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clientIP(tt.remote, tt.xff, trusted); got.String() != tt.want {
				t.Errorf("clientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTrustedProxyHeaderInRequests(t *testing.T) {
	tb := newTestBroker(t, func(cfg *Config, _ *fakeIdP) {
		cfg.RateLimit, cfg.RateBurst = 0.001, 1
		cfg.TrustedProxies = []string{"127.0.0.1"}
	})
	// Behind a trusted proxy, each forwarded client has its own bucket.
	for _, ip := range []string{"203.0.113.1", "203.0.113.2"} {
		resp := tb.post(t, "/token", refreshForm().Encode(), "X-Forwarded-For", ip)
		if readBody(t, resp); resp.StatusCode != 200 {
			t.Errorf("client %s: %d", ip, resp.StatusCode)
		}
	}
	resp := tb.post(t, "/token", refreshForm().Encode(), "X-Forwarded-For", "203.0.113.1")
	if readBody(t, resp); resp.StatusCode != 429 {
		t.Errorf("second request of 203.0.113.1 = %d, want 429", resp.StatusCode)
	}
	if !strings.Contains(tb.logs.String(), `"client_ip":"203.0.113.2"`) {
		t.Errorf("the log does not show the forwarded client IP:\n%s", tb.logs)
	}
}

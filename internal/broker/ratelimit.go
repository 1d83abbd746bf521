package broker

import (
	"math"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimiters bounds the per-address table: about 200 bytes each, so the
// table stays under 15 MB however many addresses an attacker sprays.
const maxLimiters = 65536

// limiter is a token bucket per client address. An IPv6 client is counted
// per /64, the smallest block a site is usually given, so one host cannot
// dodge the limit by walking its own subnet.
type limiter struct {
	limit rate.Limit
	burst int
	// idle is how long a bucket takes to fill up again; an entry unused
	// that long is indistinguishable from a new one, so it is dropped.
	idle time.Duration
	now  func() time.Time

	mu        sync.Mutex
	entries   map[netip.Addr]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(perSecond float64, burst int, now func() time.Time) *limiter {
	if perSecond <= 0 {
		return nil
	}
	idle := time.Duration(float64(burst) / perSecond * float64(time.Second))
	return &limiter{
		limit: rate.Limit(perSecond), burst: burst, idle: max(idle, time.Second), now: now,
		entries: map[netip.Addr]*bucket{}, lastSweep: now(),
	}
}

// allow takes a token for addr. When none is left it returns false and the
// whole seconds until one will be (for Retry-After, RFC 9110 §10.2.3).
func (l *limiter) allow(addr netip.Addr) (ok bool, retryAfter int) {
	if l == nil {
		return true, 0
	}
	if addr.Is6() {
		addr = netip.PrefixFrom(addr, 64).Masked().Addr()
	}
	now := l.now()
	l.mu.Lock()
	b := l.entries[addr]
	if b == nil {
		l.makeRoom(now)
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.entries[addr] = b
	}
	b.seen = now
	l.mu.Unlock()

	r := b.lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d == 0 {
		return true, 0
	}
	r.CancelAt(now)
	return false, int(math.Ceil(d.Seconds()))
}

// makeRoom drops idle entries now and then, and when the table is still
// full, an arbitrary one: memory stays bounded even under a flood of
// addresses, at worst forgiving one of them early. Callers hold l.mu.
func (l *limiter) makeRoom(now time.Time) {
	if now.Sub(l.lastSweep) >= l.idle || len(l.entries) >= maxLimiters {
		for k, b := range l.entries {
			if now.Sub(b.seen) >= l.idle {
				delete(l.entries, k)
			}
		}
		l.lastSweep = now
	}
	for k := range l.entries {
		if len(l.entries) < maxLimiters {
			break
		}
		delete(l.entries, k)
	}
}

func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// clientIP finds the address a request came from. X-Forwarded-For is only
// believed as far as it was appended by trusted proxies: walking it from the
// right, the first address that is not a trusted proxy is the client, since
// anything further left was written by the client itself.
func clientIP(remoteAddr string, forwardedFor []string, trusted []netip.Prefix) netip.Addr {
	ip := parseHost(remoteAddr)
	if !isTrusted(ip, trusted) || len(forwardedFor) == 0 {
		return ip
	}
	hops := strings.Split(strings.Join(forwardedFor, ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := parseHost(strings.TrimSpace(hops[i]))
		if !hop.IsValid() {
			return ip // a trusted proxy passed on garbage: stop at that proxy
		}
		ip = hop
		if !isTrusted(ip, trusted) {
			return ip
		}
	}
	return ip
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// parseHost accepts an address with or without a port.
func parseHost(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(strings.Trim(s, "[]"))
	return a.Unmap()
}

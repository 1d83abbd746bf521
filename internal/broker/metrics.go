package broker

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// metrics are counted with atomics over label sets fixed at start, so the
// hot path takes no lock and allocates nothing, and no caller-supplied
// value can grow the label space. They are written in the Prometheus text
// exposition format by hand; the format is small and stable.
type metrics struct {
	endpoints []string // requests_total endpoint labels
	grants    []string // grant_type labels; "" for none or unknown
	outcomes  []string
	upstreams []string // upstream endpoints
	bounds    []time.Duration

	requests          []atomic.Uint64 // endpoints × grants × outcomes
	upstream          []histogram
	inFlight          atomic.Int64
	rateLimited       atomic.Uint64
	discoveryFailures atomic.Uint64
}

type histogram struct {
	buckets []atomic.Uint64 // not cumulative; the last is +Inf
	count   atomic.Uint64
	sum     atomic.Int64 // nanoseconds
}

func newMetrics() *metrics {
	m := &metrics{
		endpoints: []string{epToken, epRevoke, epIntrospect, "other"},
		grants:    []string{GrantAuthorizationCode, GrantRefreshToken, ""},
		outcomes: []string{outcomeOK, outcomeProviderError, outcomeRefused, outcomeRateLimited,
			outcomeUnavailable, outcomeBadGateway, outcomeTimeout, outcomeCanceled},
		upstreams: []string{epToken, epRevoke, epIntrospect},
		bounds: []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond,
			50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
			time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 30 * time.Second},
	}
	m.requests = make([]atomic.Uint64, len(m.endpoints)*len(m.grants)*len(m.outcomes))
	m.upstream = make([]histogram, len(m.upstreams))
	for i := range m.upstream {
		m.upstream[i].buckets = make([]atomic.Uint64, len(m.bounds)+1)
	}
	return m
}

// countRequest adds one to requests_total; unknown labels fall into the
// last entry of each set.
func (m *metrics) countRequest(endpoint, grantType, outcome string) {
	e := index(m.endpoints, endpoint)
	g := index(m.grants, grantType)
	o := index(m.outcomes, outcome)
	m.requests[(e*len(m.grants)+g)*len(m.outcomes)+o].Add(1)
}

func index(set []string, v string) int {
	if i := slices.Index(set, v); i >= 0 {
		return i
	}
	return len(set) - 1
}

func (m *metrics) observeUpstream(endpoint string, d time.Duration) {
	i := slices.Index(m.upstreams, endpoint)
	if i < 0 {
		return
	}
	h := &m.upstream[i]
	b, _ := slices.BinarySearch(m.bounds, d) // first bound >= d
	h.buckets[b].Add(1)
	h.count.Add(1)
	h.sum.Add(int64(d))
}

// write prints every metric in the text exposition format 0.0.4.
func (m *metrics) write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	help := func(name, typ, text string) {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, typ)
	}
	help("sesame_broker_requests_total", "counter", "Requests to the API endpoints, by endpoint, grant type and outcome.")
	for e, ep := range m.endpoints {
		for g, gt := range m.grants {
			for o, oc := range m.outcomes {
				n := m.requests[(e*len(m.grants)+g)*len(m.outcomes)+o].Load()
				if n > 0 {
					fmt.Fprintf(bw, "sesame_broker_requests_total{endpoint=%q,grant_type=%q,outcome=%q} %d\n", ep, gt, oc, n)
				}
			}
		}
	}
	help("sesame_broker_upstream_duration_seconds", "histogram", "Time providers took to answer forwarded requests, by endpoint.")
	for i, ep := range m.upstreams {
		h := &m.upstream[i]
		var cum uint64
		for b, bound := range m.bounds {
			cum += h.buckets[b].Load()
			fmt.Fprintf(bw, "sesame_broker_upstream_duration_seconds_bucket{endpoint=%q,le=%q} %d\n", ep, seconds(bound), cum)
		}
		cum += h.buckets[len(m.bounds)].Load()
		fmt.Fprintf(bw, "sesame_broker_upstream_duration_seconds_bucket{endpoint=%q,le=\"+Inf\"} %d\n", ep, cum)
		fmt.Fprintf(bw, "sesame_broker_upstream_duration_seconds_sum{endpoint=%q} %s\n", ep, seconds(time.Duration(h.sum.Load())))
		fmt.Fprintf(bw, "sesame_broker_upstream_duration_seconds_count{endpoint=%q} %d\n", ep, h.count.Load())
	}
	help("sesame_broker_in_flight", "gauge", "API requests being handled now.")
	fmt.Fprintf(bw, "sesame_broker_in_flight %d\n", m.inFlight.Load())
	help("sesame_broker_rate_limited_total", "counter", "Requests refused by the per-client-IP rate limit.")
	fmt.Fprintf(bw, "sesame_broker_rate_limited_total %d\n", m.rateLimited.Load())
	help("sesame_broker_discovery_failures_total", "counter", "Failed fetches of a provider's discovery document.")
	fmt.Fprintf(bw, "sesame_broker_discovery_failures_total %d\n", m.discoveryFailures.Load())
	return bw.Flush()
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'g', -1, 64)
}

package broker

import (
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the broker's Prometheus metrics, in a registry of its own
// rather than the global one: a process may run several brokers (tests
// do), and each /metrics shows only its broker. Every label value comes
// from a fixed set, so no caller-supplied value can grow the label space.
type metrics struct {
	handler http.Handler // serves the registry in the negotiated exposition format

	requests *prometheus.CounterVec // endpoint × grant_type × outcome
	// counters caches requests' children by label index, so that counting
	// a request is a slice index rather than WithLabelValues' hash and map
	// lookup. A child is still created on first use, as WithLabelValues
	// would, so /metrics shows only the combinations that occurred.
	counters []atomic.Pointer[prometheus.Counter]
	// upstream has one histogram per upstreamEndpoints entry, created at
	// start so that all of them are exposed from the first scrape, as
	// before any provider call.
	upstream          []prometheus.Observer
	rateLimited       prometheus.Counter
	discoveryFailures prometheus.Counter
	// inFlight is read at scrape time (a GaugeFunc): the handler adds and
	// subtracts on an atomic, and tests read it directly.
	inFlight atomic.Int64
}

// The label sets. A value outside a set is counted as the set's last
// entry: "other", "" and "canceled".
var (
	requestEndpoints  = []string{epToken, epRevoke, epIntrospect, epPAR, epOther}
	requestGrants     = []string{GrantAuthorizationCode, GrantRefreshToken, ""}
	requestOutcomes   = []string{outcomeOK, outcomeProviderError, outcomeRefused, outcomeRateLimited, outcomeUnavailable, outcomeBadGateway, outcomeTimeout, outcomeCanceled}
	upstreamEndpoints = []string{epToken, epRevoke, epIntrospect, epPAR}
)

// upstreamBuckets are the upper bounds, in seconds, of the upstream
// duration histogram: from a provider on the same network to one at the
// largest upstream_timeout worth waiting for.
var upstreamBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

func newMetrics() *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sesame_broker_requests_total",
			Help: "Requests to the API endpoints, by endpoint, grant type and outcome.",
		}, []string{"endpoint", "grant_type", "outcome"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sesame_broker_rate_limited_total",
			Help: "Requests refused by the per-client-IP rate limit.",
		}),
		discoveryFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sesame_broker_discovery_failures_total",
			Help: "Failed fetches of a provider's discovery document.",
		}),
	}
	m.counters = make([]atomic.Pointer[prometheus.Counter], len(requestEndpoints)*len(requestGrants)*len(requestOutcomes))
	upstream := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sesame_broker_upstream_duration_seconds",
		Help:    "Time providers took to answer forwarded requests, by endpoint.",
		Buckets: upstreamBuckets,
	}, []string{"endpoint"})
	for _, ep := range upstreamEndpoints {
		m.upstream = append(m.upstream, upstream.WithLabelValues(ep))
	}
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sesame_broker_in_flight",
		Help: "API requests being handled now.",
	}, func() float64 { return float64(m.inFlight.Load()) })

	reg := prometheus.NewRegistry()
	reg.MustRegister(m.requests, upstream, inFlight, m.rateLimited, m.discoveryFailures)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

// countRequest adds one to requests_total.
func (m *metrics) countRequest(endpoint, grantType, outcome string) {
	e, g, o := indexOf(requestEndpoints, endpoint), indexOf(requestGrants, grantType), indexOf(requestOutcomes, outcome)
	slot := &m.counters[(e*len(requestGrants)+g)*len(requestOutcomes)+o]
	c := slot.Load()
	if c == nil {
		// Two first uses at once get the same child from the vector.
		child := m.requests.WithLabelValues(requestEndpoints[e], requestGrants[g], requestOutcomes[o])
		slot.Store(&child)
		c = &child
	}
	(*c).Inc()
}

// indexOf returns v's index in set, or that of the set's last entry.
func indexOf(set []string, v string) int {
	if i := slices.Index(set, v); i >= 0 {
		return i
	}
	return len(set) - 1
}

func (m *metrics) observeUpstream(endpoint string, d time.Duration) {
	if i := slices.Index(upstreamEndpoints, endpoint); i >= 0 {
		m.upstream[i].Observe(d.Seconds())
	}
}

package broker

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sesame-cli/sesame/internal/provider"
)

// endpoints are where a client's requests go; empty means not published.
type endpoints struct {
	token, revocation, introspection string
	par                              string // RFC 9126; from discovery only
}

func (ep endpoints) url(endpoint string) string {
	switch endpoint {
	case epToken:
		return ep.token
	case epRevoke:
		return ep.revocation
	case epIntrospect:
		return ep.introspection
	case epPAR:
		return ep.par
	}
	return ""
}

// directory keeps each issuer's endpoints from its discovery document.
// A failed refresh keeps the last good document: a provider's brief outage
// at refresh time must not stop the broker from forwarding to it.
type directory struct {
	hc      *http.Client
	timeout time.Duration
	log     *slog.Logger
	metrics *metrics
	issuers map[string]*issuerState
}

type issuerState struct {
	known  atomic.Pointer[endpoints] // nil until a discovery succeeds
	failed atomic.Bool               // the last attempt failed
}

func newDirectory(clients []*client, hc *http.Client, timeout time.Duration, log *slog.Logger, m *metrics) *directory {
	d := &directory{hc: hc, timeout: timeout, log: log, metrics: m, issuers: map[string]*issuerState{}}
	for _, c := range clients {
		if c.issuer != "" {
			d.issuers[c.issuer] = &issuerState{}
		}
	}
	return d
}

// lookup returns c's endpoints, explicit settings winning over discovery.
// discovered is false while c's issuer has never been discovered, so that
// an endpoint missing for that reason is told apart from one the provider
// does not publish.
func (d *directory) lookup(c *client) (ep endpoints, discovered bool) {
	discovered = true
	if c.issuer != "" {
		known := d.issuers[c.issuer].known.Load()
		if discovered = known != nil; discovered {
			ep = *known
		}
	}
	if c.explicit.token != "" {
		ep.token = c.explicit.token
	}
	if c.explicit.revocation != "" {
		ep.revocation = c.explicit.revocation
	}
	if c.explicit.introspection != "" {
		ep.introspection = c.explicit.introspection
	}
	return ep, discovered
}

// unknown lists the issuers never discovered, sorted.
func (d *directory) unknown() []string {
	var out []string
	for iss, st := range d.issuers {
		if st.known.Load() == nil {
			out = append(out, iss)
		}
	}
	slices.Sort(out)
	return out
}

// refresh fetches every issuer's document at once and reports whether
// all of them are known (now or from before).
func (d *directory) refresh(ctx context.Context) bool {
	var wg sync.WaitGroup
	for iss, st := range d.issuers {
		wg.Go(func() { d.refreshOne(ctx, iss, st) })
	}
	wg.Wait()
	return len(d.unknown()) == 0
}

func (d *directory) refreshOne(ctx context.Context, issuer string, st *issuerState) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	ep, err := d.discover(ctx, issuer)
	if err != nil {
		d.metrics.discoveryFailures.Inc()
		st.failed.Store(true)
		kept := "no endpoints known yet"
		if st.known.Load() != nil {
			kept = "keeping the last good endpoints"
		}
		d.log.Warn("discovery failed", "issuer", issuer, "error", err, "state", kept)
		return
	}
	st.known.Store(ep)
	if st.failed.Swap(false) {
		d.log.Info("discovery recovered", "issuer", issuer)
	} else {
		d.log.Debug("discovery refreshed", "issuer", issuer)
	}
}

func (d *directory) discover(ctx context.Context, issuer string) (*endpoints, error) {
	md, err := provider.Discover(ctx, d.hc, issuer)
	if err != nil {
		return nil, err
	}
	ep := &endpoints{token: md.TokenEndpoint, revocation: md.RevocationEndpoint, introspection: md.IntrospectionEndpoint,
		par: md.PushedAuthorizationRequestEndpoint}
	for _, u := range []string{ep.token, ep.revocation, ep.introspection, ep.par} {
		if err := checkUpstreamURL(u); err != nil {
			return nil, fmt.Errorf("discovery document of %s: %w", issuer, err)
		}
	}
	return ep, nil
}

// run refreshes every interval until ctx ends. While an issuer has never
// been discovered it retries sooner, doubling from one second, so that a
// broker started during a provider outage becomes ready soon after it ends.
func (d *directory) run(ctx context.Context, interval time.Duration) {
	if len(d.issuers) == 0 {
		return
	}
	retry := time.Second
	wait := interval
	if len(d.unknown()) > 0 {
		wait = retry
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if d.refresh(ctx) {
			retry, wait = time.Second, interval
		} else {
			retry = min(retry*2, interval)
			wait = retry
		}
		t.Reset(wait)
	}
}

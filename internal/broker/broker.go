package broker

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// Options are the broker's side effects; the zero value is production
// wiring with logs discarded.
type Options struct {
	// Logger receives one line per API request and the broker's notices.
	Logger *slog.Logger
	// HTTP calls the providers; default NewUpstreamClient(). Redirects
	// are never followed, and Config.UpstreamTimeout applies to every call
	// whatever the client's own Timeout. Left nil, the requests the broker
	// forwards go over its own pool of HTTP/1.1 connections instead (see
	// direct), except through a proxy set in the environment; discovery
	// uses the client either way.
	HTTP *http.Client
	// Now is the rate limiter's clock; default time.Now.
	Now func() time.Time
	// Stderr, when set, also gets the operator warnings that must not be
	// lost in a log stream, such as serving plain HTTP on a public address.
	Stderr io.Writer
	// Sessions, when set, serves session mode (internal/sessionbroker) at
	// SessionsPrefix + /.well-known/openid-configuration, /providers and
	// /session/..., next to the pass-through endpoints.
	Sessions       http.Handler
	SessionsPrefix string
}

// Broker is the token-exchange service: an http.Handler that holds no
// per-user state, so any number of replicas can share a load balancer.
type Broker struct {
	cfg             Config
	clients         map[string]*client
	proxies         []netip.Prefix
	dir             *directory
	limiter         *limiter
	metrics         *metrics
	http            *http.Client
	direct          *direct // nil: every call goes through http
	log             *slog.Logger
	stderr          io.Writer
	separateMetrics bool
	conn            connLimits
	routes          http.Handler
	sessions        http.Handler
	sessionsPrefix  string
}

// New validates cfg and builds a broker. It does no I/O: call Discover
// before serving, and KeepFresh to follow the providers' documents.
// Validation messages name client settings as the file does (FileKey);
// Validate names them otherwise.
func New(cfg Config, opts Options) (*Broker, error) {
	clients, proxies, err := compile(cfg, FileKey)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var dt *direct
	if opts.HTTP == nil {
		opts.HTTP = NewUpstreamClient()
		if canPeek {
			dt = newDirect(upstreamTLS())
		}
	} else {
		hc := *opts.HTTP
		hc.CheckRedirect = noRedirects
		opts.HTTP = &hc
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := &Broker{
		cfg:             cfg,
		clients:         make(map[string]*client, len(clients)),
		proxies:         proxies,
		limiter:         newLimiter(cfg.RateLimit, cfg.RateBurst, opts.Now),
		metrics:         newMetrics(),
		http:            opts.HTTP,
		direct:          dt,
		log:             opts.Logger,
		stderr:          opts.Stderr,
		separateMetrics: cfg.MetricsListen != "",
		conn:            defaultConnLimits(),
		sessions:        opts.Sessions,
		sessionsPrefix:  strings.TrimSuffix(opts.SessionsPrefix, "/"),
	}
	for _, c := range clients {
		b.clients[c.id] = c
	}
	b.dir = newDirectory(clients, b.http, cfg.UpstreamTimeout, b.log, b.metrics)
	b.routes = b.newRoutes()
	return b, nil
}

// NewUpstreamClient is the HTTP client for providers: keep-alive pools
// sized for a busy broker (the default of two idle connections per host
// would reconnect under load), TLS 1.2 or later, and no redirects, which
// a token endpoint has no reason to send and which must not carry the
// client's credentials elsewhere.
func NewUpstreamClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	t.TLSClientConfig = upstreamTLS()
	return &http.Client{Transport: t, CheckRedirect: noRedirects}
}

func upstreamTLS() *tls.Config { return &tls.Config{MinVersion: tls.VersionTLS12} }

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Discover fetches every issuer's discovery document once. The error names
// the issuers that failed; the broker still serves clients whose endpoints
// are known, and /readyz reports the rest.
func (b *Broker) Discover(ctx context.Context) error {
	if b.dir.refresh(ctx) {
		return nil
	}
	return fmt.Errorf("discovery failed for %s", strings.Join(b.dir.unknown(), ", "))
}

// KeepFresh refreshes discovery documents every Config.DiscoveryRefresh
// until ctx ends, sooner while an issuer has never been reached.
func (b *Broker) KeepFresh(ctx context.Context) { b.dir.run(ctx, b.cfg.DiscoveryRefresh) }

// isLoopbackListen reports whether addr accepts only local connections:
// the rule for "never leaves the machine" is httpx.IsLoopback's.
func isLoopbackListen(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && httpx.IsLoopback(tcp.IP.String())
}

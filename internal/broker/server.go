package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server is a broker listening on its addresses.
type Server struct {
	// URL is the API's base URL: the CLI's token endpoint is URL + "/token".
	URL string
	// MetricsURL is where /metrics is served: URL, or the metrics listener.
	MetricsURL string
	Broker     *Broker

	servers []*http.Server
	errs    chan error
	stop    context.CancelFunc
	grace   time.Duration
}

// Start builds a broker from cfg and serves it; see (*Broker).Start.
// End-to-end tests use it with Listen "127.0.0.1:0".
func Start(ctx context.Context, cfg Config, opts Options) (*Server, error) {
	b, err := New(cfg, opts)
	if err != nil {
		return nil, err
	}
	return b.Start(ctx)
}

// Start listens, runs discovery once (serving anyway if it fails, with
// /readyz saying so), and serves until Shutdown. Discovery is then kept
// fresh in the background until Shutdown.
func (b *Broker) Start(ctx context.Context) (*Server, error) {
	var tlsCfg *tls.Config
	if b.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(b.cfg.TLSCert, b.cfg.TLSKey)
		if err != nil {
			return nil, &ConfigError{Key: TopKey("tls_cert"), Err: fmt.Errorf("cannot load the certificate and key: %w", err)}
		}
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	s := &Server{Broker: b, errs: make(chan error, 2), grace: b.cfg.UpstreamTimeout + 5*time.Second}
	api, err := b.listen(b.cfg.Listen, tlsCfg)
	if err != nil {
		return nil, err
	}
	s.URL = baseURL(api, tlsCfg)
	s.MetricsURL = s.URL
	listeners := []net.Listener{api}
	handlers := []http.Handler{b}
	if b.separateMetrics {
		ml, err := b.listen(b.cfg.MetricsListen, tlsCfg)
		if err != nil {
			_ = api.Close()
			return nil, err
		}
		s.MetricsURL = baseURL(ml, tlsCfg)
		listeners, handlers = append(listeners, ml), append(handlers, b.MetricsHandler())
	}

	if err := b.Discover(ctx); err != nil {
		b.log.Warn("starting without every provider's endpoints; /readyz reports 503 until discovery succeeds", "error", err)
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	go b.KeepFresh(runCtx)
	for i, ln := range listeners {
		srv := b.httpServer(handlers[i], tlsCfg)
		s.servers = append(s.servers, srv)
		go func() {
			var err error
			if tlsCfg != nil {
				err = srv.ServeTLS(ln, "", "")
			} else {
				err = srv.Serve(ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				s.errs <- fmt.Errorf("serve on %s: %w", ln.Addr(), err)
			}
		}()
	}
	b.log.Info("listening", "url", s.URL, "metrics", s.MetricsURL, "clients", len(b.clients))
	return s, nil
}

func (b *Broker) listen(addr string, tlsCfg *tls.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	if tlsCfg == nil && !isLoopbackListen(ln.Addr()) {
		msg := fmt.Sprintf("serving plain HTTP on %s, which is not a loopback address: tokens and codes cross the network unencrypted unless a TLS-terminating proxy is in front (set tls_cert and tls_key otherwise)", ln.Addr())
		b.log.Warn(msg)
		if b.stderr != nil {
			fmt.Fprintln(b.stderr, "sesame-broker: WARNING: "+msg)
		}
	}
	return ln, nil
}

// maxHeaderBytes bounds a request's line and headers; a token request
// needs a few hundred bytes.
const maxHeaderBytes = 32 << 10

// connLimits bound the phases of a connection that a client controls:
// the request line and headers, the whole request with its body, and the
// wait for the next request on a kept-alive connection.
type connLimits struct {
	readHeader, read, idle time.Duration
}

// defaultConnLimits are what every broker serves with. They are not
// configuration: only tests shorten them, to watch slow clients being
// cut off without waiting for the real limits.
func defaultConnLimits() connLimits {
	return connLimits{readHeader: 5 * time.Second, read: 15 * time.Second, idle: 2 * time.Minute}
}

// httpServer bounds every phase of a connection, so that slow or idle
// clients (slowloris) cannot hold the broker's resources.
func (b *Broker) httpServer(h http.Handler, tlsCfg *tls.Config) *http.Server {
	return &http.Server{
		Handler: h,
		// Each server gets its own copy: serving adds HTTP/2 to it.
		TLSConfig:         tlsCfg.Clone(),
		ReadHeaderTimeout: b.conn.readHeader,
		ReadTimeout:       b.conn.read,
		// Long enough for the slowest provider answer the broker waits for.
		WriteTimeout:   b.cfg.UpstreamTimeout + 15*time.Second,
		IdleTimeout:    b.conn.idle,
		MaxHeaderBytes: maxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(b.log.Handler(), slog.LevelDebug),
	}
}

func baseURL(ln net.Listener, tlsCfg *tls.Config) string {
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	return scheme + "://" + ln.Addr().String()
}

// Run serves until ctx ends, then shuts down gracefully. It returns an
// error only if serving failed.
func (s *Server) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		s.Broker.log.Info("shutting down", "grace", s.grace)
		shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.grace)
		defer cancel()
		err := s.Shutdown(shutCtx)
		s.Broker.log.Info("stopped")
		return err
	case err := <-s.errs:
		s.Close()
		return err
	}
}

// Shutdown stops accepting connections and waits, until ctx ends, for
// in-flight requests to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("drain in-flight requests: %w", err))
			_ = srv.Close()
		}
	}
	return errors.Join(errs...)
}

// Close stops at once, dropping in-flight requests.
func (s *Server) Close() {
	s.stop()
	for _, srv := range s.servers {
		_ = srv.Close()
	}
}

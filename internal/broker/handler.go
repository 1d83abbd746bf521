package broker

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"
)

// record is what one API request leaves in the log and the metrics. It
// holds no parameter value: client_id and grant_type are recorded only
// once they are known to be configured values.
type record struct {
	endpoint, clientID, grantType string
	ip                            netip.Addr
	status, upstreamStatus        int
	providerError, outcome, note  string
	// dpop says a DPoP proof was forwarded; the proof itself is never
	// recorded.
	dpop bool
}

// ServeHTTP serves the API, the probes and, unless it has its own
// listener, /metrics.
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()["X-Content-Type-Options"] = []string{"nosniff"}
	if len(r.TransferEncoding) > 0 || !r.ProtoAtLeast(1, 1) {
		// Go's server frames a request with both Content-Length and
		// chunked Transfer-Encoding by the chunks, and an HTTP/1.0 one
		// with Transfer-Encoding by Content-Length or as empty, then keeps
		// the connection open. A proxy in front that framed it the other
		// way would have the rest of the bytes served as a request of
		// their own (request smuggling), so RFC 9112 §6.1 requires closing
		// the connection after the response. Go has already removed those
		// headers by now, so every chunked and every HTTP/1.0 request gets
		// Connection: close; token clients send Content-Length over
		// HTTP/1.1 and lose nothing.
		w.Header().Set("Connection", "close")
	}
	b.routes.ServeHTTP(w, r)
}

// serveAPI serves one request to an API endpoint (or, as epOther, to a
// path the broker does not have): rate-limited, counted and logged.
func (b *Broker) serveAPI(w http.ResponseWriter, r *http.Request, endpoint string) {
	start := time.Now()
	b.metrics.inFlight.Add(1)
	defer b.metrics.inFlight.Add(-1)
	rec := &record{endpoint: endpoint, ip: clientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), b.proxies)}
	if e := b.api(w, r, rec); e != nil {
		rec.outcome = e.outcome
		if e.status != 0 { // a caller that went away gets no answer
			rec.status, rec.note = e.status, e.code+": "+e.logText()
			e.write(w)
		}
	}
	b.finish(r.Context(), rec, time.Since(start))
}

// api handles one API request, writing the provider's reply itself or
// returning the refusal to write.
func (b *Broker) api(w http.ResponseWriter, r *http.Request, rec *record) *apiError {
	if ok, retry := b.limiter.allow(rec.ip); !ok {
		b.metrics.rateLimited.Inc()
		return rateLimited(retry)
	}
	if rec.endpoint == epOther {
		return notFound()
	}
	if r.Method != http.MethodPost {
		return methodNotAllowed(http.MethodPost)
	}
	if r.ContentLength > MaxBody {
		return bodyTooLarge()
	}
	body, err := readSized(http.MaxBytesReader(w, r.Body, MaxBody), r.ContentLength, bodyHint)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return bodyTooLarge()
	case err != nil:
		return invalidRequest("the body could not be read")
	}
	a, e := validateRequest(rec.endpoint, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), body, b.clients)
	if e != nil {
		return e
	}
	rec.clientID, rec.grantType = a.client.id, a.grantType
	if a.dpop, e = dpopProof(rec.endpoint, r.Header); e != nil {
		return e
	}
	rec.dpop = a.dpop != ""
	ep, discovered := b.dir.lookup(a.client)
	target := ep.url(rec.endpoint)
	switch {
	case target == "" && !discovered:
		return unavailable("the provider's discovery document could not be fetched yet; try again shortly")
	case target == "" && rec.endpoint == epPAR:
		// Not an error of the caller's: the CLI checks the request another way.
		return refuse(http.StatusNotFound, "invalid_request", "this client's provider offers no pushed authorization requests (RFC 9126)")
	case target == "":
		return invalidRequest("this client's provider has no " + rec.endpoint + " endpoint")
	}

	ctx, cancel := context.WithTimeout(r.Context(), b.cfg.UpstreamTimeout)
	defer cancel()
	start := time.Now()
	rep, e := b.forward(ctx, target, a)
	b.metrics.observeUpstream(rec.endpoint, time.Since(start))
	if e != nil {
		return e
	}
	rec.status, rec.upstreamStatus, rec.providerError = rep.status, rep.status, rep.errCode
	rec.outcome = outcomeOK
	if rep.status >= 400 {
		rec.outcome = outcomeProviderError
	}
	if rep.errCode == "invalid_client" || rep.status == http.StatusUnauthorized {
		b.log.Warn("the provider refused the broker's client credentials; check the client secret and auth_method",
			"client_id", a.client.id)
	}
	rep.write(w)
	return nil
}

// bodyHint bounds the buffer a request's declared length sizes up front:
// token requests are a few hundred bytes.
const bodyHint = 4 << 10

// readSized is io.ReadAll (the same bytes and error) for a body whose
// length is declared: the buffer is sized for it up front, with room to
// see EOF, rather than grown from 512 bytes. A declared length is only
// believed below maxHint, so that a caller who declares 64 KiB and sends
// nothing holds no large buffer while the read times out; beyond it, or
// unknown (-1), the buffer grows as io.ReadAll's does.
func readSized(r io.Reader, declared, maxHint int64) ([]byte, error) {
	size := int64(512)
	if declared >= 0 && declared < maxHint {
		size = declared + 1
	}
	b := make([]byte, 0, size)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // let append pick the next size
		}
	}
}

// finish logs and counts a request. Never log a parameter value or header
// here: codes, verifiers, tokens and secrets all pass through this code.
func (b *Broker) finish(ctx context.Context, rec *record, d time.Duration) {
	b.metrics.countRequest(rec.endpoint, rec.grantType, rec.outcome)
	level := slog.LevelInfo
	if rec.outcome == outcomeBadGateway || rec.outcome == outcomeTimeout {
		level = slog.LevelWarn
	}
	if !b.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 12)
	attrs = append(attrs,
		slog.String("endpoint", rec.endpoint),
		slog.String("client_ip", rec.ip.String()),
		slog.String("outcome", rec.outcome),
		slog.Int("status", rec.status),
		slog.Duration("duration", d))
	if rec.clientID != "" {
		attrs = append(attrs, slog.String("client_id", rec.clientID))
	}
	if rec.grantType != "" {
		attrs = append(attrs, slog.String("grant_type", rec.grantType))
	}
	if rec.dpop {
		attrs = append(attrs, slog.Bool("dpop", true))
	}
	if rec.upstreamStatus != 0 {
		attrs = append(attrs, slog.Int("upstream_status", rec.upstreamStatus))
	}
	if rec.providerError != "" {
		attrs = append(attrs, slog.String("provider_error", rec.providerError))
	}
	if rec.note != "" {
		attrs = append(attrs, slog.String("error", rec.note))
	}
	b.log.LogAttrs(ctx, level, "request", attrs...)
}

func (b *Broker) healthz(w http.ResponseWriter, r *http.Request) {
	b.probe(w, r, http.StatusOK, []byte(`{"status":"ok"}`+"\n"))
}

func (b *Broker) probe(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed("GET, HEAD").write(w)
		return
	}
	writeJSON(w, status, body)
}

// readyz is ready when every client's endpoints are known; otherwise it
// names the issuers whose discovery has not succeeded yet.
func (b *Broker) readyz(w http.ResponseWriter, r *http.Request) {
	failing := b.dir.unknown()
	if len(failing) == 0 {
		b.probe(w, r, http.StatusOK, []byte(`{"status":"ready"}`+"\n"))
		return
	}
	body, _ := json.Marshal(struct {
		Status  string   `json:"status"`
		Issuers []string `json:"failing_issuers"`
	}{"unavailable", failing})
	b.probe(w, r, http.StatusServiceUnavailable, append(body, '\n'))
}

// serveMetrics serves the metrics in the format the scraper asks for
// (Prometheus text by default), never cached.
func (b *Broker) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed("GET, HEAD").write(w)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	b.metrics.handler.ServeHTTP(w, r)
}

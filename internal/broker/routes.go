package broker

import (
	"net/http"
	"path"
	"strings"
)

// newRoutes maps the broker's paths with http.ServeMux patterns. The patterns
// name no method and "/" catches every other path, because ServeMux's own
// 405 and 404 are plain text where an OAuth client expects an RFC 6749
// §5.2 error object: each handler checks its methods and answers with
// error JSON and Allow itself, and the catch-all refuses the rest the
// same way, rate-limited and counted as endpoint "other".
func (b *Broker) newRoutes() http.Handler {
	mux := http.NewServeMux()
	for _, ep := range []string{epToken, epRevoke, epIntrospect, epPAR} {
		mux.HandleFunc("/"+ep, func(w http.ResponseWriter, r *http.Request) { b.serveAPI(w, r, ep) })
	}
	if b.sessions != nil {
		// Session mode: rate-limited like the rest, answered by its own
		// handler.
		sessions := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if b.limited(w, r) {
				return
			}
			b.sessions.ServeHTTP(w, r)
		})
		p := b.sessionsPrefix
		mux.Handle(p+"/.well-known/openid-configuration", sessions)
		mux.Handle(p+"/providers", sessions)
		mux.Handle(p+"/session/", sessions)
	}
	mux.HandleFunc("/healthz", b.healthz)
	mux.HandleFunc("/readyz", b.readyz)
	if !b.separateMetrics {
		mux.HandleFunc("/metrics", b.serveMetrics)
	}
	other := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { b.serveAPI(w, r, epOther) })
	mux.Handle("/", other)
	return canonical(mux, other)
}

// MetricsHandler serves /metrics on its own listener (Config.MetricsListen).
func (b *Broker) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", b.serveMetrics)
	unknown := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { notFound().write(w) })
	mux.Handle("/", unknown)
	return canonical(mux, unknown)
}

// canonical hands mux the requests whose path is in canonical form, and
// unknown the rest. ServeMux answers a path such as //token or
// /x/../token with a redirect to the cleaned path; the broker's callers
// send clean paths, and a redirect is no answer to a token request, so
// such a path is simply not one of the broker's.
func canonical(mux *http.ServeMux, unknown http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isCanonical(r.URL.EscapedPath()) {
			mux.ServeHTTP(w, r)
		} else {
			unknown.ServeHTTP(w, r)
		}
	})
}

// isCanonical is ServeMux's test for a path it serves without redirecting:
// rooted, and unchanged by path.Clean but for a trailing slash.
func isCanonical(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean == p
}

// limited applies the per-IP rate limit to a session-mode request and
// answers it when the limit is reached.
func (b *Broker) limited(w http.ResponseWriter, r *http.Request) bool {
	ip := clientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), b.proxies)
	if ok, retry := b.limiter.allow(ip); !ok {
		b.metrics.rateLimited.Inc()
		rateLimited(retry).write(w)
		return true
	}
	return false
}

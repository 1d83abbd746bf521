package sessionbroker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/sessions"
)

// Upstream is a provider the broker signs users in at, as its
// confidential client.
type Upstream struct {
	// Name is how the CLI picks the upstream (--provider) and what session
	// tokens carry as idp: letters, digits, '.', '_' and '-', at most 64.
	Name, Issuer, ClientID, ClientSecret string
	// AuthMethod is client_secret_basic (default) or client_secret_post
	// (RFC 6749 §2.3.1).
	AuthMethod string
	// Scopes are what the CLI asks the upstream for; default
	// DefaultScopes. openid is required: the broker mints only after
	// verifying an ID token. Without offline_access most providers send
	// no refresh token, and the session cannot be renewed.
	Scopes []string
}

// Config is the session mode's whole configuration.
type Config struct {
	// Issuer is the broker's public URL as session tokens name it (iss):
	// https, or http on a loopback host; no trailing slash, query or
	// fragment. Every route lives under its path.
	Issuer string
	// Lifetime is the session token's; zero means DefaultLifetime.
	// sessions.CheckLifetime bounds it.
	Lifetime time.Duration
	// MaxAuthAge is how recent the upstream sign-in (auth_time) must be
	// for a session to start; zero means DefaultMaxAuthAge. The CLI asks
	// the upstream for it as max_age (OpenID Connect Core §3.1.2.1).
	MaxAuthAge time.Duration
	Keys       *sessions.Keys
	Store      sessions.Store
	Upstreams  []Upstream
	// HTTP calls the upstreams; its Timeout bounds each call (give the
	// broker's upstream_timeout), and nil means a client with a 30 s one.
	// Calls that carry a code or token never follow a redirect (httpx).
	HTTP *http.Client
	Now  func() time.Time // nil means time.Now
	Log  *slog.Logger     // nil means no log
}

// Defaults and bounds.
const (
	DefaultLifetime   = time.Hour
	DefaultMaxAuthAge = 10 * time.Minute
	// MaxMaxAuthAge bounds MaxAuthAge: a session is minted for a sign-in
	// the user just made, not for one of last week.
	MaxMaxAuthAge = 24 * time.Hour
	// MaxSessionAge is how long a session renews after it was minted.
	// Revocations are kept as long, so that none lapses while the session
	// it ends could still renew.
	MaxSessionAge = 30 * 24 * time.Hour
)

// DefaultScopes are what the CLI asks an upstream for when its Scopes are
// empty.
func DefaultScopes() []string { return []string{"openid", "profile", "email", "offline_access"} }

// upstream is an Upstream with the endpoints its discovery document gave.
type upstream struct {
	Upstream
	ep provider.Endpoints
}

// Handler serves the session mode. It is safe for concurrent use.
type Handler struct {
	cfg       Config
	prefix    string // the issuer's path, "" for a bare origin
	tokenURL  string // what DPoP proofs name (htu)
	upstreams map[string]*upstream
	minter    *sessions.Minter
	http      *http.Client // no redirects
	log       *slog.Logger
}

// New checks cfg and finds each upstream's endpoints by discovery; an
// upstream that cannot be discovered, or publishes no jwks_uri, stops it.
func New(ctx context.Context, cfg Config) (*Handler, error) {
	if cfg.Lifetime == 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.MaxAuthAge == 0 {
		cfg.MaxAuthAge = DefaultMaxAuthAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg.Upstreams = slices.Clone(cfg.Upstreams) // the caller's stay as they are
	for i := range cfg.Upstreams {
		u := &cfg.Upstreams[i]
		u.Scopes = slices.Clone(u.Scopes)
		if u.AuthMethod == "" {
			u.AuthMethod = authBasic
		}
		if len(u.Scopes) == 0 {
			u.Scopes = DefaultScopes()
		}
	}
	prefix, err := check(cfg)
	if err != nil {
		return nil, err
	}
	h := &Handler{
		cfg: cfg, prefix: prefix, tokenURL: cfg.Issuer + routeToken,
		upstreams: map[string]*upstream{},
		minter:    &sessions.Minter{Issuer: cfg.Issuer, Keys: cfg.Keys, Lifetime: cfg.Lifetime, Now: cfg.Now},
		http:      httpx.NoRedirects(cfg.HTTP),
		log:       cfg.Log,
	}
	for _, u := range cfg.Upstreams {
		ep, err := provider.Resolve(ctx, cfg.HTTP, provider.Endpoints{Issuer: u.Issuer})
		if err != nil {
			return nil, fmt.Errorf("session provider %q: cannot find its endpoints: %w", u.Name, err)
		}
		if ep.JWKS == "" {
			return nil, fmt.Errorf("session provider %q: the discovery document of %s names no jwks_uri, so its ID tokens cannot be verified", u.Name, u.Issuer)
		}
		h.upstreams[u.Name] = &upstream{Upstream: u, ep: ep}
	}
	return h, nil
}

// Routes, relative to the issuer's path.
const (
	routeMetadata   = "/.well-known/openid-configuration"
	routeJWKS       = "/session/jwks"
	routeProviders  = "/providers"
	routeToken      = "/session/token"
	routeRevoke     = "/session/revoke"
	routeIntrospect = "/session/introspect"
)

// Paths are the request paths the Handler serves, the issuer's path
// included, for the mux it is mounted in: each is served exactly, and
// the Handler answers no other.
func (h *Handler) Paths() []string {
	var ps []string
	for _, r := range []string{routeMetadata, routeJWKS, routeProviders, routeToken, routeRevoke, routeIntrospect} {
		ps = append(ps, h.prefix+r)
	}
	return ps
}

// endpoint answers one route; a refusal or failure is returned, and
// written by ServeHTTP.
type endpoint func(w http.ResponseWriter, r *http.Request) *apiError

// ServeHTTP routes a request by its path, relative to the issuer's.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, ok := strings.CutPrefix(r.URL.Path, h.prefix)
	if !ok {
		route = "" // outside the issuer's path
	}
	var e endpoint
	get := true
	switch route {
	case routeMetadata:
		e = h.metadata
	case routeJWKS:
		e = h.jwks
	case routeProviders:
		e = h.providers
	case routeToken:
		e, get = h.token, false
	case routeRevoke:
		e, get = h.revoke, false
	case routeIntrospect:
		e, get = h.introspect, false
	default:
		notFound().write(w)
		return
	}
	switch {
	case get && r.Method != http.MethodGet && r.Method != http.MethodHead:
		methodNotAllowed("GET, HEAD").write(w)
	case !get && r.Method != http.MethodPost:
		methodNotAllowed("POST").write(w)
	default:
		if err := e(w, r); err != nil {
			h.refused(r, route, err)
			err.write(w)
		}
	}
}

// RevokeSubject revokes every session of sub signed in until now, on
// every replica that shares the Store: renewals are refused and
// introspection answers inactive. It is for an administrator ending a
// user's access; sessions the user starts afterwards are not affected.
func (h *Handler) RevokeSubject(ctx context.Context, sub string) error {
	if sub == "" {
		return errors.New("revoke the sessions of a subject: no subject given")
	}
	if err := h.cfg.Store.RevokeSubject(ctx, sub, h.cfg.Now()); err != nil {
		return fmt.Errorf("revoke the sessions of %s: %w", sub, err)
	}
	h.log.Info("sessions of a subject revoked", "sub", sub)
	return nil
}

// refused logs a refusal or failure: its route, status, code and the
// broker's own description, never anything the caller sent.
func (h *Handler) refused(r *http.Request, route string, e *apiError) {
	level := slog.LevelDebug
	if e.status >= 500 {
		level = slog.LevelWarn
	}
	h.log.Log(r.Context(), level, "session request refused", "route", route, "status", e.status,
		"error", e.code, "reason", e.description)
}

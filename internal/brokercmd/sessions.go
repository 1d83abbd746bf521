package brokercmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/sesame-cli/sesame/internal/broker"
	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/sessionbroker"
	"github.com/sesame-cli/sesame/internal/sessions"
)

// sessionKey names a setting of the sessions block in messages.
func sessionKey(k string) string { return "sessions." + k }

// sessionParts are what the sessions block turns into before any
// provider is asked: what --check validates.
type sessionParts struct {
	keys  *sessions.Keys
	store sessions.Store
}

// openSessions checks the sessions block (issuer, key files, lifetime and
// max_auth_age bounds, a reachable store) and opens its keys and store.
func openSessions(ctx context.Context, s *broker.Sessions, stderr io.Writer) (*sessionParts, error) {
	if s.Issuer == "" {
		return nil, &broker.ConfigError{Key: sessionKey("issuer"), Err: errors.New("required: the public URL session tokens name as iss")}
	}
	if err := httpx.CheckEndpoint(s.Issuer); err != nil {
		return nil, &broker.ConfigError{Key: sessionKey("issuer"), Err: err}
	}
	lifetime := s.Lifetime
	if lifetime == 0 {
		lifetime = sessionbroker.DefaultLifetime
	}
	if err := sessions.CheckLifetime(lifetime); err != nil {
		return nil, &broker.ConfigError{Key: sessionKey("lifetime"), Err: err}
	}
	if s.MaxAuthAge < 0 || s.MaxAuthAge > sessionbroker.MaxMaxAuthAge {
		return nil, &broker.ConfigError{Key: sessionKey("max_auth_age"), Err: fmt.Errorf("%s is out of range: 0 (default %s) to %s", s.MaxAuthAge, sessionbroker.DefaultMaxAuthAge, sessionbroker.MaxMaxAuthAge)}
	}
	keys, err := sessions.LoadKeys(s.SigningKeyFiles)
	if err != nil {
		return nil, &broker.ConfigError{Key: sessionKey("signing_key_file"), Err: err}
	}
	for _, w := range keys.Warnings() {
		fmt.Fprintf(stderr, "sesame-broker: warning: %s\n", w)
	}
	storeURL := s.Store
	if storeURL == "" {
		storeURL = "memory"
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	store, err := sessions.OpenStore(sctx, storeURL, time.Now)
	if err != nil {
		return nil, &broker.ConfigError{Key: sessionKey("store"), Err: err}
	}
	return &sessionParts{keys: keys, store: store}, nil
}

// sessionsHandler builds session mode from cfg, or returns nil without a
// sessions block. Every client with a name is an upstream; close releases
// the store.
func sessionsHandler(ctx context.Context, cfg broker.Config, log *slog.Logger, stderr io.Writer) (h http.Handler, prefix string, close func(), err error) {
	s := cfg.Sessions
	if s == nil {
		return nil, "", func() {}, nil
	}
	parts, err := openSessions(ctx, s, stderr)
	if err != nil {
		return nil, "", nil, err
	}
	var ups []sessionbroker.Upstream
	for _, c := range cfg.Clients {
		if c.Name == "" {
			continue
		}
		ups = append(ups, sessionbroker.Upstream{Name: c.Name, Issuer: c.Issuer, ClientID: c.ID,
			ClientSecret: c.Secret, AuthMethod: c.AuthMethod, Scopes: c.Scopes})
	}
	if len(ups) == 0 {
		parts.store.Close()
		return nil, "", nil, &broker.ConfigError{Key: "clients", Err: errors.New("session mode needs at least one client with a name (what sesame login --provider picks)")}
	}
	hc := broker.NewUpstreamClient()
	hc.Timeout = cfg.UpstreamTimeout
	sh, err := sessionbroker.New(ctx, sessionbroker.Config{Issuer: s.Issuer, Lifetime: s.Lifetime, MaxAuthAge: s.MaxAuthAge,
		Keys: parts.keys, Store: parts.store, Upstreams: ups, HTTP: hc, Log: log})
	if err != nil {
		parts.store.Close()
		return nil, "", nil, err
	}
	u, _ := url.Parse(s.Issuer)
	return sh, u.EscapedPath(), func() { parts.store.Close() }, nil
}

// revokeSubject records, in the sessions store, that every session of sub
// issued until now is revoked: what an administrator does when a user
// leaves or a device is lost. Replicas sharing the store see it at once.
func revokeSubject(ctx context.Context, cfg broker.Config, sub string, stderr io.Writer) error {
	switch {
	case cfg.Sessions == nil:
		return &broker.ConfigError{Key: "sessions", Err: errors.New("--revoke-subject needs the sessions block of the configuration")}
	case cfg.Sessions.Store == "" || cfg.Sessions.Store == "memory":
		return &broker.ConfigError{Key: sessionKey("store"), Err: errors.New("--revoke-subject needs the shared store (redis://) the replicas use; a memory store lives in one broker process")}
	}
	parts, err := openSessions(ctx, cfg.Sessions, stderr)
	if err != nil {
		return err
	}
	defer parts.store.Close()
	if err := parts.store.RevokeSubject(ctx, sub, time.Now()); err != nil {
		return fmt.Errorf("revoke the sessions of %q: %w", sub, err)
	}
	fmt.Fprintf(stderr, "revoked every session of %q issued until now\n", sub)
	return nil
}

package sessions

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Store keeps what the broker's replicas must agree on: revoked sessions,
// revoked subjects and DPoP proofs already used. It is small and keyed, so
// that a replica's answer never depends on which replica saw the
// revocation: the memory store serves one replica, Redis several.
//
// Every error is an error: a caller that cannot tell whether a session is
// revoked, or a proof fresh, refuses the request.
type Store interface {
	// RevokeSession revokes session sid until until, the latest expiry the
	// session could have; after that the entry may be forgotten.
	RevokeSession(ctx context.Context, sid string, until time.Time) error
	// RevokeSubject revokes every session of sub issued at or before at:
	// sub's sessions are valid only if issued after the latest such at.
	// The entry is kept for good, since the store cannot know how long
	// the sessions it outlaws may last; it is one entry per subject.
	RevokeSubject(ctx context.Context, sub string, at time.Time) error
	// Revoked reports whether session sid of sub, issued at issuedAt
	// (its auth_time or iat, as the caller decides), is revoked. Times
	// compare to the millisecond, a revocation's time rounded up: a
	// session issued in the same millisecond, or given with a coarser
	// time (a JWT's seconds), counts as issued before it.
	Revoked(ctx context.Context, sid, sub string, issuedAt time.Time) (bool, error)
	// UseOnce reports true the first time it sees key within ttl and false
	// after: DPoP proof replay detection (RFC 9449 §11.1). The caller
	// namespaces the key; keys longer than MaxKey are refused.
	UseOnce(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Ping checks that the store answers, for readiness probes.
	Ping(ctx context.Context) error
	Close() error
}

// MaxKey bounds the IDs and keys a Store takes: UseOnce keys carry a
// proof's jti, which the client chose.
const MaxKey = 1 << 10

// keyPrefix starts every Redis key the broker writes, so that a Redis
// shared with other services shows whose keys these are.
const keyPrefix = "sesame-broker:"

var errTTL = errors.New("session store: UseOnce needs a positive ttl")

// ErrStoreClosed is what a Store answers after Close.
var ErrStoreClosed = errors.New("the session store is closed")

// OpenStore opens the store a URL names: "memory" for one replica's own
// memory, or "redis://[user:password@]host:port/db" ("rediss://" for TLS)
// for a Redis that every replica shares. A Redis store is pinged before
// OpenStore returns, and its timeouts are short (1 s to connect, read or
// write, one retry) so that a dead Redis fails requests fast instead of
// holding them; query parameters go-redis knows (dial_timeout, …)
// override these. Errors never show the URL's password.
func OpenStore(ctx context.Context, rawURL string, now func() time.Time) (Store, error) {
	if now == nil {
		now = time.Now
	}
	switch rawURL {
	case "memory":
		return NewMemoryStore(now), nil
	case "":
		return nil, errors.New("no session store: give memory, redis://[user:password@]host:port/db or rediss://…")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's error quotes the whole URL, password and all.
		return nil, errors.New("the session store is not a URL: give memory, redis://[user:password@]host:port/db or rediss://…")
	}
	switch u.Scheme {
	case "redis", "rediss":
		return openRedis(ctx, u, now)
	}
	return nil, fmt.Errorf("the session store %s is not one the broker knows: give memory, redis://[user:password@]host:port/db or rediss://…", shownURL(u))
}

// shownURL is u for an error message: no password, no query (where
// go-redis takes options, and a careless URL may hide a secret).
func shownURL(u *url.URL) string {
	v := *u
	v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = "", false, "", ""
	shown := v.Redacted()
	if p, ok := u.User.Password(); ok && p != "" {
		shown = strings.ReplaceAll(shown, p, "xxxxx")
	}
	return shown
}

// checkKey refuses an empty or oversized ID or key.
func checkKey(what, k string) error {
	switch {
	case k == "":
		return fmt.Errorf("session store: empty %s", what)
	case len(k) > MaxKey:
		return fmt.Errorf("session store: %s longer than %d bytes", what, MaxKey)
	}
	return nil
}

// validAfter is a subject revocation's time as both stores keep it: Unix
// milliseconds, rounded up, so that rounding never un-revokes a session.
func validAfter(at time.Time) int64 {
	ms := at.UnixMilli()
	if at.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

// revokedAt applies a subject revocation kept as validAfter.
func revokedAt(issuedAt time.Time, validAfterMS int64) bool {
	return issuedAt.UnixMilli() <= validAfterMS
}

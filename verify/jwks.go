package verify

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// How often the broker is asked for its keys. A token naming a key not
// in the cache makes the Verifier fetch the set again, at most once per
// refetchInterval, so that made-up kids cannot flood the broker; until a
// first set has been fetched, attempts are retryInterval apart. A set
// older than keysMaxAge is fetched again before use, so that a key the
// broker withdraws stops opening doors; if that fails, the old set
// serves until the broker answers again.
const (
	refetchInterval = 30 * time.Second
	retryInterval   = 5 * time.Second
	keysMaxAge      = 10 * time.Minute
)

// brokerKeys is one fetch of the broker's discovery document and keys.
type brokerKeys struct {
	keys          map[string]*ecdsa.PublicKey // by kid
	introspection string
	fetched       time.Time
}

// keyCache holds the latest brokerKeys for lock-free reads; mu guards the
// fetch bookkeeping, and a fetch in progress is shared by all who wait.
type keyCache struct {
	current atomic.Pointer[brokerKeys]

	mu       sync.Mutex
	inflight chan struct{} // closed when the fetch in progress ends
	lastTry  time.Time
	lastErr  error // the last fetch's failure, nil once one succeeds
}

// key is the broker's public key named kid.
func (v *Verifier) key(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	if set := v.keys.current.Load(); set != nil && v.now().Sub(set.fetched) < keysMaxAge {
		if k, ok := set.keys[kid]; ok {
			return k, nil
		}
	}
	set, err := v.brokerKeys(ctx, func(s *brokerKeys) bool { return s.keys[kid] != nil })
	if set != nil {
		if k, ok := set.keys[kid]; ok {
			return k, nil
		}
	}
	if err != nil {
		return nil, unavailable("the broker's keys could not be fetched", err)
	}
	return nil, tokenError("the token is signed with a key the broker does not publish")
}

// brokerKeys returns the cached set when it is fresh and has what the
// caller needs (want); otherwise it fetches the set again, when the rate
// limit allows, or waits for the fetch already under way. It returns the
// best set it has, even stale or without what was wanted, with the last
// fetch's error, if any.
func (v *Verifier) brokerKeys(ctx context.Context, want func(*brokerKeys) bool) (*brokerKeys, error) {
	c := &v.keys
	for {
		c.mu.Lock()
		set, now := c.current.Load(), v.now()
		if set != nil && now.Sub(set.fetched) < keysMaxAge && want(set) {
			c.mu.Unlock()
			return set, nil
		}
		if ch := c.inflight; ch != nil {
			c.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return set, ctx.Err()
			}
		}
		interval := refetchInterval
		if set == nil {
			interval = retryInterval
		}
		if !c.lastTry.IsZero() && !now.Before(c.lastTry) && now.Sub(c.lastTry) < interval {
			err := c.lastErr
			c.mu.Unlock()
			return set, err
		}
		ch := make(chan struct{})
		c.inflight, c.lastTry = ch, now
		c.mu.Unlock()

		// The fetch serves every caller waiting for it, so it does not
		// end with the first caller's request; the client's timeout
		// bounds it.
		fresh, err := v.fetchKeys(context.WithoutCancel(ctx))
		c.mu.Lock()
		if err == nil {
			c.current.Store(fresh)
		}
		c.lastErr, c.inflight = err, nil
		close(ch)
		c.mu.Unlock()
	}
}

// jwkSet is a JWK Set (RFC 7517 §5), its keys as decoded JSON.
type jwkSet struct {
	Keys []map[string]any `json:"keys"`
}

// fetchKeys reads the discovery document, then the key set it names. Of
// the set it keeps the keys the broker signs tokens with: EC P-256, for
// signatures (use "sig" or none), for ES256 (alg "ES256" or none), with a
// kid. A kid that names two different keys is dropped: the broker's kids
// are thumbprints, so that is a broken set.
func (v *Verifier) fetchKeys(ctx context.Context) (*brokerKeys, error) {
	meta, err := v.discover(ctx)
	if err != nil {
		return nil, err
	}
	var set jwkSet
	if err := v.getJSON(ctx, meta.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("read the broker's key set: %w", err)
	}
	keys := make(map[string]*ecdsa.PublicKey, len(set.Keys))
	dup := map[string]bool{}
	for _, m := range set.Keys {
		for _, name := range privateMembers {
			if _, ok := m[name]; ok {
				return nil, fmt.Errorf("the broker's key set at %s holds private key material: refused", meta.JWKSURI)
			}
		}
		kid, _ := m["kid"].(string)
		use, hasUse := m["use"]
		alg, hasAlg := m["alg"]
		if kid == "" || m["kty"] != "EC" || m["crv"] != "P-256" || hasUse && use != "sig" || hasAlg && alg != algES256 {
			continue
		}
		pub, _, _, err := parseJWK(m)
		if err != nil {
			continue
		}
		k := pub.(*ecdsa.PublicKey)
		if old, ok := keys[kid]; ok && !old.Equal(k) {
			dup[kid] = true
		}
		keys[kid] = k
	}
	for kid := range dup {
		delete(keys, kid)
	}
	if len(keys) == 0 {
		return nil, errors.New("the broker's key set at " + meta.JWKSURI + " has no ES256 key")
	}
	return &brokerKeys{keys: keys, introspection: meta.Introspection, fetched: v.now()}, nil
}

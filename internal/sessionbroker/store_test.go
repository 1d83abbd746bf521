package sessionbroker

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/sessions"
)

// flakyStore is a Store whose methods fail, as a Redis that went away
// does, once a test names them.
type flakyStore struct {
	sessions.Store
	mu   sync.Mutex
	down []string
}

func (f *flakyStore) fail(methods ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = methods
}

func (f *flakyStore) err(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if slices.Contains(f.down, method) {
		return fmt.Errorf("%w: dial tcp 10.0.0.7:6379: connection refused", sessions.ErrStoreUnavailable)
	}
	return nil
}

func (f *flakyStore) RevokeSession(ctx context.Context, sid string, until time.Time) error {
	if err := f.err("RevokeSession"); err != nil {
		return err
	}
	return f.Store.RevokeSession(ctx, sid, until)
}

func (f *flakyStore) RevokeSubject(ctx context.Context, sub string, at time.Time) error {
	if err := f.err("RevokeSubject"); err != nil {
		return err
	}
	return f.Store.RevokeSubject(ctx, sub, at)
}

func (f *flakyStore) Revoked(ctx context.Context, sid, sub string, at time.Time) (bool, error) {
	if err := f.err("Revoked"); err != nil {
		return false, err
	}
	return f.Store.Revoked(ctx, sid, sub, at)
}

func (f *flakyStore) UseOnce(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := f.err("UseOnce"); err != nil {
		return false, err
	}
	return f.Store.UseOnce(ctx, key, ttl)
}

func newFlakyHarness(t *testing.T) (*harness, *flakyStore) {
	var fs *flakyStore
	hs := newHarness(t, harnessOptions{store: func(now func() time.Time) sessions.Store {
		fs = &flakyStore{Store: sessions.NewMemoryStore(now)}
		return fs
	}})
	return hs, fs
}

var allMethods = []string{"RevokeSession", "RevokeSubject", "Revoked", "UseOnce"}

func wantStoreDown(t *testing.T, a answer) {
	t.Helper()
	wantError(t, a, http.StatusServiceUnavailable, "temporarily_unavailable")
	if a.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}

func TestStoreDownFailsClosed(t *testing.T) {
	hs, fs := newFlakyHarness(t)
	k := newDPoPKey(t)
	live := hs.start(t, "alpha", k)
	fs.fail(allMethods...)

	wantStoreDown(t, hs.post(t, routeToken, hs.authorize(t, "alpha").form(), hs.proof(t, k)))
	if n := hs.idps["alpha"].Grants("authorization_code"); n != 1 {
		t.Errorf("a code was redeemed upstream while the store was down (%d in all)", n)
	}
	wantStoreDown(t, hs.renew(t, live.str("refresh_token"), k))
	wantStoreDown(t, hs.introspect(t, live.str("access_token")))
	wantStoreDown(t, hs.post(t, routeRevoke, url.Values{"token": {live.str("refresh_token")}}))
	wantStoreDown(t, hs.post(t, routeRevoke, url.Values{"token": {live.str("access_token")}}))
	if err := hs.h.RevokeSubject(context.Background(), "u_x"); err == nil {
		t.Error("RevokeSubject reported success with the store down")
	}
	if n := hs.idps["alpha"].Grants("refresh_token"); n != 0 {
		t.Errorf("the upstream was refreshed %d times while the store was down", n)
	}

	fs.fail()
	if a := hs.renew(t, live.str("refresh_token"), k); a.status != http.StatusOK {
		t.Errorf("renewal once the store is back: HTTP %d %v", a.status, a.body)
	}
}

// With proofs recorded but revocations unknown, a renewal mints nothing
// and spends nothing upstream: the upstream refresh token would rotate
// and the session be lost.
func TestRenewalWithoutRevocationCheckMintsNothing(t *testing.T) {
	hs, fs := newFlakyHarness(t)
	k := newDPoPKey(t)
	live := hs.start(t, "beta", k)
	fs.fail("Revoked")
	wantStoreDown(t, hs.renew(t, live.str("refresh_token"), k))
	wantStoreDown(t, hs.post(t, routeToken, hs.authorize(t, "beta").form(), hs.proof(t, k)))
	if n := hs.idps["beta"].Grants("refresh_token"); n != 0 {
		t.Errorf("the upstream was refreshed %d times", n)
	}
}

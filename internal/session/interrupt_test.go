package session

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/testidp"
)

// An interrupt (Ctrl-C: cmd/sesame cancels the context) surfaces as
// context.Canceled from every wait, so that the command exits 130 with
// "sesame: interrupted"; and it never costs the login a refresh token the
// provider already rotated.

// slowEndpoint answers after delay, or never when delay is negative (until
// the test ends); arrived is closed when the first request comes in.
func slowEndpoint(t *testing.T, delay time.Duration, status int, body string) (string, <-chan struct{}, *atomic.Int32) {
	arrived := make(chan struct{})
	var n atomic.Int32
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			close(arrived)
		}
		wait := time.After(delay)
		if delay < 0 {
			wait = nil
		}
		select {
		case <-wait:
		case <-done:
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv.URL, arrived, &n
}

func cancelWhen(ch <-chan struct{}, after time.Duration) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-ch
		time.Sleep(after)
		cancel()
	}()
	return ctx
}

// TestInterruptWhileWaitingForTheLock: a process waiting for another's
// refresh stops at once.
func TestInterruptWhileWaitingForTheLock(t *testing.T) {
	e := newEnv(t).withIdP(testidp.Options{})
	te := newTokenEndpoint(t, func(url.Values) (int, any) { return 500, "unused" })
	e.cannedLogin(te)
	holder := e.session()
	unlock, err := holder.lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	started := make(chan struct{})
	close(started)
	for name, use := range map[string]func(context.Context, *Session) error{
		"Fresh": func(ctx context.Context, s *Session) error { _, err := s.Fresh(ctx, time.Minute, false); return err },
		"FreshFor": func(ctx context.Context, s *Session) error {
			_, err := s.FreshFor(ctx, Target{Resource: resOne}, 0, true)
			return err
		},
		"Logout": func(ctx context.Context, s *Session) error { _, err := s.Logout(ctx, false); return err },
		"Revoke": func(ctx context.Context, s *Session) error { return s.Revoke(ctx, false) },
		"Check":  func(ctx context.Context, s *Session) error { _, err := s.Check(ctx); return err },
	} {
		s := e.session()
		s.LockTimeout = time.Minute
		start := time.Now()
		err := use(cancelWhen(started, 50*time.Millisecond), s)
		if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
			t.Errorf("%s: %v after %s", name, err, time.Since(start))
		}
	}
	if len(te.calls()) != 0 || len(e.st.keys()) != 1 {
		t.Errorf("%d refreshes, store %q", len(te.calls()), e.st.keys())
	}
}

// TestInterruptBeforeTheRefresh: an interrupt that came first sends
// nothing.
func TestInterruptBeforeTheRefresh(t *testing.T) {
	e := newEnv(t).withIdP(testidp.Options{})
	te := newTokenEndpoint(t, func(url.Values) (int, any) { return 500, "unused" })
	e.cannedLogin(te)
	snap := e.st.snapshot()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.session().Fresh(ctx, time.Minute, true); !errors.Is(err, context.Canceled) {
		t.Errorf("Fresh: %v", err)
	}
	if len(te.calls()) != 0 || !equalSnap(snap, e.st.snapshot()) {
		t.Errorf("%d requests; store changed %v", len(te.calls()), !equalSnap(snap, e.st.snapshot()))
	}
}

// TestInterruptDuringTheRefresh: the answer of a refresh already sent is
// stored when it comes within the grace period (the provider has rotated
// the refresh token: dropping the new one would end the grant), and the
// command still reports the interrupt; a provider that does not answer
// does not hold the command much longer.
func TestInterruptDuringTheRefresh(t *testing.T) {
	rotated := `{"access_token":"at-1","refresh_token":"rt-1","token_type":"Bearer","expires_in":3600}`
	t.Run("answer within the grace period: stored", func(t *testing.T) {
		e := newEnv(t).withIdP(testidp.Options{})
		te := newTokenEndpoint(t, func(url.Values) (int, any) { return 500, "unused" })
		e.cannedLogin(te)
		tok, arrived, _ := slowEndpoint(t, 300*time.Millisecond, 200, rotated)
		s := e.session()
		s.TokenURL = tok
		_, err := s.Fresh(cancelWhen(arrived, 20*time.Millisecond), time.Minute, true)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Fresh: %v", err)
		}
		if got := rawEntry(t, e); got.RefreshToken != "rt-1" || got.AccessToken != "at-1" {
			t.Errorf("the rotated refresh token was dropped: %q", got.RefreshToken)
		}
	})
	t.Run("no answer: interrupted after the grace period, nothing changed", func(t *testing.T) {
		e := newEnv(t).withIdP(testidp.Options{})
		te := newTokenEndpoint(t, func(url.Values) (int, any) { return 500, "unused" })
		e.cannedLogin(te)
		snap := e.st.snapshot()
		tok, arrived, _ := slowEndpoint(t, -1, 200, rotated)
		s := e.session()
		s.TokenURL = tok
		start := time.Now()
		_, err := s.FreshFor(cancelWhen(arrived, 0), Target{Resource: resOne}, 0, true)
		took := time.Since(start)
		if !errors.Is(err, context.Canceled) || took < interruptGrace || took > interruptGrace+3*time.Second {
			t.Errorf("FreshFor: %v after %s", err, took)
		}
		if !equalSnap(snap, e.st.snapshot()) {
			t.Error("the store changed")
		}
	})
}

// TestInterruptDuringProviderCalls: userinfo, revocation (logout keeps the
// tokens then: the user stopped it) and introspection stop at once.
func TestInterruptDuringProviderCalls(t *testing.T) {
	e := newEnv(t).withIdP(testidp.Options{})
	te := newTokenEndpoint(t, func(url.Values) (int, any) { return 500, "unused" })
	tok := e.cannedLogin(te)
	hung, arrived, _ := slowEndpoint(t, -1, 200, `{}`)
	tok.Expiry = e.clk.Now().Add(time.Hour)
	tok.Endpoints.Userinfo, tok.Endpoints.Revocation = hung, hung
	e.put(tok)
	snap := e.st.snapshot()
	for name, use := range map[string]func(context.Context, *Session) error{
		"Userinfo": func(ctx context.Context, s *Session) error { _, err := s.Userinfo(ctx); return err },
		"Logout":   func(ctx context.Context, s *Session) error { _, err := s.Logout(ctx, true); return err },
		"Check":    func(ctx context.Context, s *Session) error { _, err := s.Check(ctx); return err },
	} {
		start := time.Now()
		err := use(cancelWhen(arrived, 20*time.Millisecond), e.session())
		if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
			t.Errorf("%s: %v after %s", name, err, time.Since(start))
		}
		var nr *NotRevokedError
		if errors.As(err, &nr) || !equalSnap(snap, e.st.snapshot()) {
			t.Errorf("%s: the store changed (%v)", name, err)
		}
	}
}

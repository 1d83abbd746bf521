package session

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/store"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// TestLoadProfileMismatch: tokens stored for another issuer or client_id
// than the profile now names are not handed out, nor refreshed.
func TestLoadProfileMismatch(t *testing.T) {
	tests := []struct {
		name, issuer, clientID string
		refused                bool
	}{
		{name: "profile names neither", refused: false},
		{name: "both match", issuer: "https://idp.example", clientID: "cli-1"},
		{name: "issuer matches, client not given", issuer: "https://idp.example"},
		{name: "another issuer", issuer: "https://other.example", clientID: "cli-1", refused: true},
		{name: "issuer with a trailing slash", issuer: "https://idp.example/", refused: true},
		{name: "another client", issuer: "https://idp.example", clientID: "cli-2", refused: true},
		{name: "another client, issuer not given", clientID: "cli-2", refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			te := newTokenEndpoint(t, func(url.Values) (int, any) {
				return 200, map[string]any{"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600}
			})
			now := e.clk.Now()
			e.put(&Tokens{ClientID: "cli-1", Endpoints: provider.Endpoints{Issuer: "https://idp.example", Token: te.URL},
				AccessToken: "at-0", RefreshToken: "rt-0", Expiry: now.Add(10 * time.Second), ObtainedAt: now.Add(-time.Hour)})
			s := e.session()
			s.Issuer, s.ClientID = tt.issuer, tt.clientID
			_, err := s.Load()
			if !tt.refused {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var lr *LoginRequiredError
			if !errors.As(err, &lr) || lr.Unreadable {
				t.Fatalf("Load = %v, want a LoginRequiredError", err)
			}
			for _, want := range []string{`profile "p" now names another issuer or client than the stored login (https://idp.example, cli-1)`, "run `sesame login --profile p`"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q lacks %q", err, want)
				}
			}
			// Nor does any other way in use them.
			ctx := context.Background()
			if _, err := s.Fresh(ctx, time.Minute, false); !errors.As(err, &lr) {
				t.Errorf("Fresh = %v", err)
			}
			if _, err := s.FreshID(ctx, time.Minute); !errors.As(err, &lr) {
				t.Errorf("FreshID = %v", err)
			}
			if _, err := s.FreshFor(ctx, Target{Resource: resOne}, time.Minute, false); !errors.As(err, &lr) {
				t.Errorf("FreshFor = %v", err)
			}
			if n := len(te.calls()); n != 0 {
				t.Errorf("%d refresh requests for another profile's tokens", n)
			}
		})
	}
}

// TestLoadStoreErrors: a store that fails, a damaged entry and one that
// does not decode.
func TestLoadStoreErrors(t *testing.T) {
	timeout := &store.TimeoutError{After: 3 * time.Second}
	tests := []struct {
		name       string
		getErr     error
		raw        string
		want       string
		login      bool
		unreadable bool
	}{
		{name: "keychain damaged", getErr: &store.CorruptError{Key: "p", Reason: "checksum mismatch"},
			want: `the stored tokens for profile "p" are damaged (checksum mismatch)`, login: true, unreadable: true},
		{name: "keychain timeout", getErr: timeout, want: "read stored tokens: the OS keychain did not answer within 3s"},
		{name: "not JSON", raw: "{", want: "not valid JSON", login: true, unreadable: true},
		{name: "a JSON array", raw: "[]", want: "not valid JSON", login: true, unreadable: true},
		{name: "null", raw: "null", want: "format version 0", login: true, unreadable: true},
		{name: "newer format", raw: `{"version":2,"access_token":"a"}`, want: "format version 2, this sesame reads 1", login: true, unreadable: true},
		{name: "no access token", raw: `{"version":1,"refresh_token":"r"}`, want: "no access token", login: true, unreadable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.raw != "" {
				e.st.Set("p", []byte(tt.raw))
			}
			if tt.getErr != nil {
				e.st.getErr = func(string) error { return tt.getErr }
			}
			_, err := e.session().Load()
			var lr *LoginRequiredError
			if err == nil || !strings.Contains(err.Error(), tt.want) || errors.As(err, &lr) != tt.login {
				t.Fatalf("err %v, want %q (login required %v)", err, tt.want, tt.login)
			}
			if tt.login && lr.Unreadable != tt.unreadable {
				t.Errorf("Unreadable = %v", lr.Unreadable)
			}
			if tt.unreadable && !strings.Contains(err.Error(), "`sesame logout --profile p --no-revoke` removes them") {
				t.Errorf("%q does not say how to remove the entry", err)
			}
			if tt.getErr == timeout && !errors.Is(err, timeout) {
				t.Errorf("the store's error is not wrapped: %v", err)
			}
		})
	}
}

// TestLockTimeout: while another process holds the profile's lock, every
// operation that needs it waits LockTimeout and then gives up with a
// *LockTimeoutError, having sent nothing and changed nothing.
func TestLockTimeout(t *testing.T) {
	ops := []struct {
		name string
		op   func(ctx context.Context, s *Session) error
	}{
		{"Fresh", func(ctx context.Context, s *Session) error { _, err := s.Fresh(ctx, time.Minute, false); return err }},
		{"Fresh forced", func(ctx context.Context, s *Session) error { _, err := s.Fresh(ctx, 0, true); return err }},
		{"FreshID", func(ctx context.Context, s *Session) error { _, err := s.FreshID(ctx, time.Minute); return err }},
		{"FreshFor", func(ctx context.Context, s *Session) error {
			_, err := s.FreshFor(ctx, Target{Resource: resOne}, time.Minute, false)
			return err
		}},
		{"SaveLogin", func(ctx context.Context, s *Session) error { return s.SaveLogin(ctx, &Tokens{AccessToken: "new"}) }},
		{"Remove", func(ctx context.Context, s *Session) error { return s.Remove(ctx) }},
		{"Revoke", func(ctx context.Context, s *Session) error { return s.Revoke(ctx, false) }},
		{"Logout", func(ctx context.Context, s *Session) error { _, err := s.Logout(ctx, true); return err }},
	}
	for _, tt := range ops {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t).withIdP(testidp.Options{})
			te := newTokenEndpoint(t, func(url.Values) (int, any) { return 200, map[string]any{"access_token": "at-1"} })
			tok := e.cannedLogin(te)
			tok.Endpoints.Revocation = te.URL
			tok.Identity.Expiry = e.clk.Now().Add(30 * time.Second) // FreshID: due too
			e.put(tok)
			snap := e.st.snapshot()

			unlock, err := e.session().lock(ctx) // the other process
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			s := e.session()
			s.LockTimeout = 100 * time.Millisecond
			start := time.Now()
			err = tt.op(ctx, s)
			var lt *LockTimeoutError
			if !errors.As(err, &lt) {
				t.Fatalf("err %v, want a *LockTimeoutError", err)
			}
			if waited := time.Since(start); waited < s.LockTimeout {
				t.Errorf("gave up after %v", waited)
			}
			if lt.Profile != "p" || lt.After != s.LockTimeout || lt.Path != filepath.Join(e.lock, "p.lock") {
				t.Errorf("%+v", lt)
			}
			if want := `another sesame process has held the token lock of profile "p" for 100ms (` + lt.Path + "); try again once it finishes"; err.Error() != want {
				t.Errorf("message %q", err)
			}
			if n := len(te.calls()); n != 0 {
				t.Errorf("%d requests made without the lock", n)
			}
			if !equalSnap(e.st.snapshot(), snap) {
				t.Error("the store changed without the lock")
			}

			// Once the other process lets go, the same call goes through.
			unlock()
			s.LockTimeout = 0 // DefaultLockTimeout
			if err := tt.op(ctx, s); errors.As(err, &lt) {
				t.Errorf("after the lock was released: %v", err)
			}
		})
	}
}

// TestLockContext: a caller that gives up while waiting gets its context's
// error, not a lock timeout.
func TestLockContext(t *testing.T) {
	e := newEnv(t)
	e.put(&Tokens{AccessToken: "a", RefreshToken: "r", Expiry: e.clk.Now().Add(time.Second)})
	unlock, err := e.session().lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	s := e.session()
	s.LockTimeout = time.Minute

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = s.Fresh(ctx, time.Minute, false)
	var lt *LockTimeoutError
	if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &lt) {
		t.Errorf("deadline while waiting: %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := s.Fresh(ctx, time.Minute, false); done <- err }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled while waiting: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Fresh kept waiting after its context was cancelled")
	}
}

// The hot path takes no lock: a valid token, or a valid cached derived
// token, comes back at once while another process holds the lock.
func TestValidTokenNeedsNoLock(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	now := e.clk.Now()
	target := Target{Resource: resOne}
	e.put(&Tokens{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(time.Hour), ObtainedAt: now,
		Identity: &provider.Identity{Subject: "alice", Expiry: now.Add(time.Hour)}, IDToken: "id",
		Derived: []string{target.key("p")}})
	b, _ := encode(&Derived{Version: formatVersion, Resource: resOne, AccessToken: "d", Expiry: now.Add(time.Hour), UpdatedAt: now})
	e.st.Set(target.key("p"), b)

	unlock, err := e.session().lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	s := e.session()
	s.LockTimeout = 5 * time.Second // a wait would show as a *LockTimeoutError
	if tok, err := s.Fresh(ctx, time.Minute, false); err != nil || tok.AccessToken != "a" {
		t.Errorf("Fresh: %v, %v", tok, err)
	}
	if tok, err := s.FreshID(ctx, time.Minute); err != nil || tok.IDToken != "id" {
		t.Errorf("FreshID: %v, %v", tok, err)
	}
	if d, err := s.FreshFor(ctx, target, time.Minute, false); err != nil || d.AccessToken != "d" {
		t.Errorf("FreshFor: %v, %v", d, err)
	}
}

// The lock file's name is the escaped profile: a profile with a slash
// cannot put it outside the lock directory.
func TestLockFileName(t *testing.T) {
	e := newEnv(t)
	s := e.session()
	s.Profile = "work/../../eu"
	unlock, err := s.lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	other := e.session()
	other.Profile = s.Profile
	other.LockTimeout = 50 * time.Millisecond
	// Held by one, the same profile's lock times out for another, at the
	// escaped path.
	unlock, _ = s.lock(context.Background())
	defer unlock()
	_, err = other.lock(context.Background())
	var lt *LockTimeoutError
	if !errors.As(err, &lt) || lt.Path != filepath.Join(e.lock, "work%2F..%2F..%2Feu.lock") {
		t.Fatalf("err %v", err)
	}
	// Another profile's lock is free.
	other.Profile = "work"
	if u, err := other.lock(context.Background()); err != nil {
		t.Errorf("another profile's lock: %v", err)
	} else {
		u()
	}
}

func TestNoLockDirectory(t *testing.T) {
	s := newEnv(t).session()
	s.LockDir = ""
	if err := s.SaveLogin(context.Background(), &Tokens{AccessToken: "a"}); err == nil || err.Error() != "no lock directory configured" {
		t.Errorf("err %v", err)
	}
}

package session

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/store"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// A login removed by another process while this one waited for the lock
// is not refreshed: the re-read under the lock finds nothing.
func TestFreshLoggedOutMeanwhile(t *testing.T) {
	e := newEnv(t).withIdP(testidp.Options{})
	e.login("openid offline_access")
	e.clk.Advance(time.Hour - 30*time.Second)
	other := e.session()
	reads := 0
	s := e.session()
	s.Store = hookStore{Store: e.st, afterGet: func(key string) {
		if reads++; reads == 1 {
			if _, err := other.Logout(context.Background(), false); err != nil {
				t.Errorf("the other process's logout: %v", err)
			}
		}
	}}
	_, err := s.Fresh(context.Background(), time.Minute, false)
	var lr *LoginRequiredError
	if !errors.As(err, &lr) || !strings.Contains(err.Error(), "not logged in") {
		t.Fatalf("err %v", err)
	}
	if n := e.idp.Grants("refresh_token"); n != 0 {
		t.Errorf("%d refresh grants for a removed login", n)
	}
	if keys := e.st.keys(); len(keys) != 0 {
		t.Errorf("the removed login came back: %q", keys)
	}
}

// A new login that cannot be stored leaves the old one whole, derived
// tokens included.
func TestSaveLoginFailureKeepsOldLogin(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).withIdP(testidp.Options{})
	e.login(orgScope, resOne)
	if _, err := e.session().FreshFor(ctx, Target{Resource: resOne}, time.Minute, false); err != nil {
		t.Fatal(err)
	}
	snap := e.st.snapshot()
	e.st.setErr = func(string) error { return errors.New("keychain locked") }
	err := e.session().SaveLogin(ctx, &Tokens{AccessToken: "new"})
	if err == nil || err.Error() != "store tokens: keychain locked" {
		t.Fatalf("err %v", err)
	}
	if !equalSnap(e.st.snapshot(), snap) {
		t.Error("a failed SaveLogin changed the store")
	}
}

// A store that fails (rather than holding something unusable) makes
// Logout fail and remove nothing: the entry may well be fine.
func TestLogoutStoreFails(t *testing.T) {
	e := newEnv(t)
	e.put(&Tokens{AccessToken: "a"})
	timeout := &store.TimeoutError{After: time.Second}
	e.st.getErr = func(string) error { return timeout }
	if _, err := e.session().Logout(context.Background(), false); !errors.Is(err, timeout) {
		t.Fatalf("err %v", err)
	}
	e.st.getErr = nil
	if keys := e.st.keys(); !slices.Equal(keys, []string{"p"}) {
		t.Errorf("keys %q", keys)
	}
}

// TestFreshForCannedRefusals: the organization refusals as a provider
// other than the in-process one may word them.
func TestFreshForCannedRefusals(t *testing.T) {
	tests := []struct {
		name   string
		body   map[string]any
		target Target
		want   string
		login  bool
	}{
		{"access_denied without a description", map[string]any{"error": "access_denied"}, Target{Org: "acme"},
			"the provider refused a token for organization acme: access denied; check that you are a member of it", false},
		{"access_denied for a resource: as the provider said", map[string]any{"error": "access_denied"}, Target{Resource: resOne},
			"refresh the tokens: the provider answered access_denied", false},
		{"insufficient_scope for a resource: as the provider said", map[string]any{"error": "insufficient_scope"}, Target{Resource: resOne},
			"the provider answered insufficient_scope", false},
		{"invalid_target for an organization: as the provider said", map[string]any{"error": "invalid_target"}, Target{Org: "acme"},
			"the provider answered invalid_target", false},
		{"invalid_grant", map[string]any{"error": "invalid_grant"}, Target{Org: "acme"}, "no longer accepts the refresh token", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t).withIdP(testidp.Options{})
			te := newTokenEndpoint(t, func(url.Values) (int, any) { return 403, tt.body })
			tok := e.cannedLogin(te)
			tok.Scope += " " + OrganizationsScope
			e.put(tok)
			snap := e.st.snapshot()
			_, err := e.session().FreshFor(context.Background(), tt.target, time.Minute, false)
			var lr *LoginRequiredError
			if err == nil || !strings.Contains(err.Error(), tt.want) || errors.As(err, &lr) != tt.login {
				t.Fatalf("err %v, want %q (login required %v)", err, tt.want, tt.login)
			}
			calls := te.calls()
			if len(calls) != 1 || calls[0].Get("organization_id") != tt.target.Org || calls[0].Get("resource") != tt.target.Resource {
				t.Errorf("requests %v", calls)
			}
			if !equalSnap(e.st.snapshot(), snap) {
				t.Error("the store changed")
			}
		})
	}
}

// A derived token without a known expiry is cached until forced, and the
// login's ID token, when the refresh brings a valid one, is renewed too.
func TestFreshForCannedAnswers(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).withIdP(testidp.Options{})
	n := 0
	te := newTokenEndpoint(t, func(url.Values) (int, any) {
		n++
		return 200, map[string]any{"access_token": "d-" + string(rune('0'+n)), "refresh_token": "rt-" + string(rune('0'+n)),
			"id_token": e.idToken(nil)}
	})
	before := e.cannedLogin(te)
	e.clk.Advance(time.Second)
	s := e.session()
	target := Target{Resource: resOne}
	d, err := s.FreshFor(ctx, target, time.Hour, false)
	if err != nil || d.AccessToken != "d-1" || !d.Expiry.IsZero() {
		t.Fatalf("%+v, %v", d, err)
	}
	st := e.stored()
	if st.RefreshToken != "rt-1" || st.IDToken == before.IDToken || !st.Identity.Expiry.After(before.Identity.Expiry) || st.AccessToken != "at-0" {
		t.Errorf("login after a derived refresh: %+v", st)
	}
	e.clk.Advance(1000 * time.Hour)
	if d, err := s.FreshFor(ctx, target, time.Hour, false); err != nil || d.AccessToken != "d-1" {
		t.Errorf("no known expiry: %+v, %v", d, err)
	}
	if d, err := s.FreshFor(ctx, target, time.Hour, true); err != nil || d.AccessToken != "d-2" || e.stored().RefreshToken != "rt-2" {
		t.Errorf("forced: %+v, %v", d, err)
	}
	if len(te.calls()) != 2 {
		t.Errorf("%d requests", len(te.calls()))
	}
}

// A provider without a JWKS URL (plain OAuth 2.0): an ID token in a
// refresh answer cannot be verified, so it is not stored, and the old
// state stays; nothing to warn about, since none is expected.
func TestCommitWithoutOIDC(t *testing.T) {
	e := newEnv(t).withIdP(testidp.Options{})
	te := newTokenEndpoint(t, func(url.Values) (int, any) {
		return 200, map[string]any{"access_token": "at-1", "refresh_token": "rt-1", "id_token": e.idToken(nil), "expires_in": 60}
	})
	tok := e.cannedLogin(te)
	tok.Endpoints.JWKS, tok.IDToken, tok.Identity = "", "", nil
	e.put(tok)
	got, err := e.session().Fresh(context.Background(), time.Minute, false)
	if err != nil || got.IDToken != "" || got.Identity != nil || got.RefreshToken != "rt-1" {
		t.Fatalf("%+v, %v", got, err)
	}
	if w := e.warns.all(); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
}

// A refresh without an identity recorded (an entry from an older sesame)
// takes the verified ID token the provider sends.
func TestCommitAdoptsIdentity(t *testing.T) {
	e := newEnv(t).withIdP(testidp.Options{})
	te := newTokenEndpoint(t, func(url.Values) (int, any) {
		return 200, map[string]any{"access_token": "at-1", "refresh_token": "rt-1", "id_token": e.idToken(nil), "expires_in": 60}
	})
	tok := e.cannedLogin(te)
	tok.IDToken, tok.Identity = "", nil
	e.put(tok)
	got, err := e.session().FreshID(context.Background(), time.Minute)
	if err == nil || got != nil {
		t.Fatalf("FreshID of a login without an ID token: %v", err)
	}
	got, err = e.session().Fresh(context.Background(), 0, true)
	if err != nil || got.IDToken == "" || got.Identity == nil || got.Identity.Subject != testidp.Subject {
		t.Fatalf("%+v, %v", got, err)
	}
}

// An unusable lock file fails at once, with a plain error naming it,
// rather than after the lock timeout.
func TestLockFileUnusable(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.lock, "p.lock")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	s := e.session()
	s.LockTimeout = time.Hour
	err := s.SaveLogin(context.Background(), &Tokens{AccessToken: "a"})
	var lt *LockTimeoutError
	if err == nil || !strings.HasPrefix(err.Error(), "lock "+path+": ") || errors.As(err, &lt) {
		t.Fatalf("err %v", err)
	}
}

// A Session without a clock uses the system's.
func TestSystemClock(t *testing.T) {
	s := &Session{}
	if d := time.Since(s.now()); d < 0 || d > time.Minute {
		t.Errorf("now() is %v off", d)
	}
	e := newEnv(t)
	e.put(&Tokens{AccessToken: "a", Expiry: time.Now().Add(time.Hour), Endpoints: provider.Endpoints{Token: deadURL(t)}})
	s = e.session()
	s.Now = nil
	if got, err := s.Fresh(context.Background(), time.Minute, false); err != nil || got.AccessToken != "a" {
		t.Errorf("%v, %v", got, err)
	}
}

// TestNewLoginAfterClientChange: the profile now names another client; a
// login for it, or a logout then a login, must not leave the old client's
// resource token to be handed out for the new login.
//
// Known bug: SaveLogin and remove learn which derived entries to delete
// from Load, which refuses the old client's entry, so they are orphaned at
// the same keys; FreshFor's fast path then serves one because it checks
// only that some login exists, not that it lists the key.
func TestNewLoginAfterClientChange(t *testing.T) {
	for _, viaLogout := range []bool{false, true} {
		ctx := context.Background()
		e := newEnv(t)
		answer := func(at string) func(url.Values) (int, any) {
			return func(url.Values) (int, any) {
				return 200, map[string]any{"access_token": at, "refresh_token": "rt-x", "expires_in": 3600}
			}
		}
		oldTE, newTE := newTokenEndpoint(t, answer("old-client-token")), newTokenEndpoint(t, answer("new-client-token"))
		now := e.clk.Now()
		login := func(s *Session, client string, te *tokenEndpoint) {
			if err := s.SaveLogin(ctx, &Tokens{ClientID: client, Endpoints: provider.Endpoints{Token: te.URL},
				AccessToken: "at-" + client, RefreshToken: "rt-" + client, Expiry: now.Add(time.Hour), ObtainedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		s1 := e.session()
		s1.ClientID = "cli-1"
		login(s1, "cli-1", oldTE)
		if _, err := s1.FreshFor(ctx, Target{Resource: resOne}, time.Minute, false); err != nil {
			t.Fatal(err)
		}

		s2 := e.session() // the profile now says cli-2
		s2.ClientID = "cli-2"
		if viaLogout {
			if _, err := s2.Logout(ctx, false); err != nil {
				t.Fatal(err)
			}
		}
		login(s2, "cli-2", newTE)
		d, err := s2.FreshFor(ctx, Target{Resource: resOne}, time.Minute, false)
		if err != nil || d.AccessToken != "new-client-token" {
			t.Errorf("via logout %v: FreshFor for the new login = %v, %v; want a token from the new client", viaLogout, d, err)
		}
		if n := len(newTE.calls()); n != 1 {
			t.Errorf("via logout %v: %d requests at the new client's token endpoint, want 1", viaLogout, n)
		}
	}
}

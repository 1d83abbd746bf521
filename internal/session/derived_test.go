package session

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/store"
	"github.com/sesame-cli/sesame/internal/testidp"
)

const (
	resOne   = "https://api.one.example"
	resTwo   = "https://api.two.example"
	resThree = "https://api.three.example" // never part of a login
	orgScope = "openid offline_access " + OrganizationsScope
)

// claimsOf decodes a JWT access token's payload (the provider signed it;
// only what it says matters here).
func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return c
}

// TestFreshForPerTarget: each resource and organization gets its own token
// from its own refresh, cached under its own key until due; every such
// refresh rotates the login's refresh token, which is stored.
func TestFreshForPerTarget(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).withIdP(testidp.Options{})
	login := e.login(orgScope, resOne, resTwo)
	s := e.session()
	targets := []struct {
		target   Target
		aud      string
		orgClaim string
	}{
		{Target{Resource: resOne}, resOne, ""},
		{Target{Resource: resTwo}, resTwo, ""},
		{Target{Org: "acme"}, testidp.OrganizationAudience("acme"), "acme"},
		{Target{Org: "globex"}, testidp.OrganizationAudience("globex"), "globex"},
		{Target{Org: "acme", Resource: resOne}, resOne, "acme"},
	}
	first := map[Target]string{}
	grants := 0
	for _, tt := range targets {
		rtBefore := e.stored().RefreshToken
		d, err := s.FreshFor(ctx, tt.target, time.Minute, false)
		if err != nil {
			t.Fatalf("%v: %v", tt.target, err)
		}
		grants++
		if n := e.idp.Grants("refresh_token"); n != grants {
			t.Errorf("%v: %d refresh grants, want %d", tt.target, n, grants)
		}
		c := claimsOf(t, d.AccessToken)
		if c["aud"] != tt.aud || (tt.orgClaim != "" && c["organization_id"] != tt.orgClaim) {
			t.Errorf("%v: token for aud %v, organization %v", tt.target, c["aud"], c["organization_id"])
		}
		if d.Resource != tt.target.Resource || d.Org != tt.target.Org || !d.Expiry.Equal(e.clk.Now().Add(time.Hour)) {
			t.Errorf("%v: derived %+v", tt.target, d)
		}
		st := e.stored()
		if st.RefreshToken == rtBefore || st.RefreshToken == "" {
			t.Errorf("%v: the rotated refresh token was not stored", tt.target)
		}
		if st.AccessToken != login.AccessToken {
			t.Errorf("%v: the login's own access token was replaced", tt.target)
		}
		if !slices.Contains(st.Derived, tt.target.key("p")) {
			t.Errorf("%v: the login does not list its key", tt.target)
		}
		if cached, err := s.LoadDerived(tt.target); err != nil || cached.AccessToken != d.AccessToken {
			t.Errorf("%v: cached %v, %v", tt.target, cached, err)
		}
		first[tt.target] = d.AccessToken
	}
	if keys := e.st.keys(); len(keys) != 1+len(targets) {
		t.Errorf("store keys %q: want the login and one per target", keys)
	}
	if got := s.DerivedTokens(e.stored()); len(got) != len(targets) {
		t.Errorf("DerivedTokens lists %d, want %d", len(got), len(targets))
	}

	// Cached until due: no grant, the same token (58 min into a 1 h token
	// with a 60 s min-ttl is not due yet).
	e.clk.Advance(58 * time.Minute)
	for _, tt := range targets {
		d, err := s.FreshFor(ctx, tt.target, time.Minute, false)
		if err != nil || d.AccessToken != first[tt.target] {
			t.Fatalf("%v: %v, %v: not the cached token", tt.target, d, err)
		}
	}
	if n := e.idp.Grants("refresh_token"); n != grants {
		t.Errorf("cached tokens cost %d grants", n-grants)
	}
	// Due: one refresh each, a new token each.
	e.clk.Advance(time.Minute)
	for _, tt := range targets {
		d, err := s.FreshFor(ctx, tt.target, time.Minute, false)
		if err != nil || d.AccessToken == first[tt.target] {
			t.Fatalf("%v: %v, %v: not refreshed", tt.target, d, err)
		}
	}
	if n := e.idp.Grants("refresh_token"); n != 2*grants {
		t.Errorf("%d grants, want %d", n, 2*grants)
	}
	// The stored refresh token is the current one: the login's own refresh
	// works, and no spent one was ever presented.
	if _, err := s.Fresh(ctx, 0, true); err != nil {
		t.Errorf("refresh after the derived ones: %v", err)
	}
	if n := e.idp.ReuseDetected(); n != 0 {
		t.Errorf("reuse detected %d times", n)
	}
}

func TestFreshForForce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).withIdP(testidp.Options{})
	e.login(orgScope, resOne)
	s := e.session()
	d1, err := s.FreshFor(ctx, Target{Resource: resOne}, time.Minute, false)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := s.FreshFor(ctx, Target{Resource: resOne}, time.Minute, true)
	if err != nil || d2.AccessToken == d1.AccessToken || e.idp.Grants("refresh_token") != 2 {
		t.Fatalf("forced: %v, same token %v, %d grants", err, d2.AccessToken == d1.AccessToken, e.idp.Grants("refresh_token"))
	}
}

// TestFreshForUnderTheLock: a derived token another process fetched while
// this one waited for the lock is used as is.
func TestFreshForUnderTheLock(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).withIdP(testidp.Options{})
	e.login(orgScope, resOne)
	target := Target{Resource: resOne}
	b := e.session()
	var bTok *Derived
	var bErr error
	done := false
	a := e.session()
	a.Store = hookStore{Store: e.st, afterGet: func(key string) {
		if key == Key("p") && !done { // A read the login before B's token was listed
			done = true
			bTok, bErr = b.FreshFor(ctx, target, time.Minute, false)
		}
	}}
	got, err := a.FreshFor(ctx, target, time.Minute, false)
	if err != nil || bErr != nil {
		t.Fatalf("A: %v; B: %v", err, bErr)
	}
	if got.AccessToken != bTok.AccessToken || e.idp.Grants("refresh_token") != 1 {
		t.Errorf("A fetched its own token: %d grants", e.idp.Grants("refresh_token"))
	}
}

// TestTargetKeys: every target has its own key, stable, under the profile,
// and free of the target's own text.
func TestTargetKeys(t *testing.T) {
	targets := []Target{
		{}, {Resource: resOne}, {Resource: resTwo}, {Org: "acme"}, {Org: "globex"},
		{Org: "acme", Resource: resOne}, {Org: resOne}, {Resource: "acme"},
	}
	seen := map[string]Target{}
	for _, tg := range targets {
		k := tg.key("p")
		if prev, dup := seen[k]; dup {
			t.Errorf("%+v and %+v share key %q", prev, tg, k)
		}
		seen[k] = tg
		if k != tg.key("p") || !strings.HasPrefix(k, "p/token/") || len(k) != len("p/token/")+24 {
			t.Errorf("%+v: key %q", tg, k)
		}
		if tg.key("q") == k {
			t.Errorf("%+v: the key does not depend on the profile", tg)
		}
	}
	tests := []struct {
		target Target
		str    string
		params string
		base   bool
	}{
		{Target{}, "the login", "", true},
		{Target{Resource: resOne}, "resource " + resOne, "resource=https%3A%2F%2Fapi.one.example", false},
		{Target{Org: "acme"}, "organization acme", "organization_id=acme", false},
		{Target{Org: "acme", Resource: resOne}, "organization acme and resource " + resOne, "organization_id=acme&resource=https%3A%2F%2Fapi.one.example", false},
	}
	for _, tt := range tests {
		if got := tt.target.String(); got != tt.str {
			t.Errorf("String() = %q, want %q", got, tt.str)
		}
		if got := tt.target.params().Encode(); got != tt.params {
			t.Errorf("params() = %q, want %q", got, tt.params)
		}
		if tt.target.IsBase() != tt.base {
			t.Errorf("%+v: IsBase %v", tt.target, !tt.base)
		}
	}
}

// TestFreshForRefusals: what each refusal means, and that none of them
// changes what is stored.
func TestFreshForRefusals(t *testing.T) {
	tests := []struct {
		name       string
		scope      string
		setup      func(e *env)
		target     Target
		wantErr    string
		login      bool
		wantGrants int  // refresh grants the call makes
		usable     bool // the stored refresh token still works afterwards
	}{
		{name: "organization without the scope: no request", scope: "openid offline_access", target: Target{Org: "acme"},
			wantErr: "organization tokens need the " + OrganizationsScope + " scope", login: true, usable: true},
		{name: "organization the user is not a member of", scope: orgScope, target: Target{Org: "initech"},
			wantErr: "the provider refused a token for organization initech: user is not a member of the organization; check that you are a member of it", wantGrants: 1, usable: true},
		{name: "the provider says the scope is missing", scope: "openid offline_access", target: Target{Org: "acme"},
			setup:   func(e *env) { tok := e.stored(); tok.Scope += " " + OrganizationsScope; e.put(tok) },
			wantErr: "the login lacks the " + OrganizationsScope + " scope", login: true, wantGrants: 1, usable: true},
		{name: "resource not part of the login", scope: orgScope, target: Target{Resource: resThree},
			wantErr: "log in again with --resource " + resThree, login: true, wantGrants: 1},
		{name: "grant revoked", scope: orgScope, target: Target{Resource: resOne}, setup: func(e *env) { e.idp.RevokeAll() },
			wantErr: "no longer accepts the refresh token", login: true, wantGrants: 1},
		{name: "no refresh token", scope: "openid", target: Target{Resource: resOne},
			wantErr: "there is no refresh token", login: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t).withIdP(testidp.Options{})
			e.login(tt.scope, resOne)
			if tt.setup != nil {
				tt.setup(e)
			}
			snap := e.st.snapshot()
			_, err := e.session().FreshFor(ctx, tt.target, time.Minute, false)
			var lr *LoginRequiredError
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &lr) != tt.login {
				t.Fatalf("err %v, want %q (login required: %v)", err, tt.wantErr, tt.login)
			}
			if n := e.idp.Grants("refresh_token"); n != tt.wantGrants {
				t.Errorf("%d refresh grants, want %d", n, tt.wantGrants)
			}
			if !equalSnap(e.st.snapshot(), snap) {
				t.Error("the store changed")
			}
			if tt.usable {
				if _, err := e.session().Fresh(ctx, 0, true); err != nil {
					t.Errorf("the login no longer refreshes: %v", err)
				}
			}
		})
	}
}

// TestFreshForStoresRefreshTokenFirst: the rotated refresh token is saved
// before the derived token, and survives when the derived one cannot be
// saved.
func TestFreshForStoresRefreshTokenFirst(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).withIdP(testidp.Options{})
	e.login(orgScope, resOne)
	target := Target{Resource: resOne}
	key := target.key("p")
	s := e.session()

	e.st.setOrder()
	before := e.stored().RefreshToken
	e.st.setErr = func(k string) error {
		if k == key {
			return errors.New("keychain full")
		}
		return nil
	}
	_, err := s.FreshFor(ctx, target, time.Minute, false)
	if err == nil || !strings.Contains(err.Error(), "store the token for resource "+resOne+": keychain full") {
		t.Fatalf("err %v", err)
	}
	if st := e.stored(); st.RefreshToken == before {
		t.Error("the rotated refresh token was lost with the derived token")
	}
	if _, err := s.LoadDerived(target); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LoadDerived = %v", err)
	}
	// The next call fetches it again, with the stored (current) refresh token.
	e.st.setErr = nil
	e.st.setOrder()
	if _, err := s.FreshFor(ctx, target, time.Minute, false); err != nil {
		t.Fatal(err)
	}
	if order := e.st.setOrder(); !slices.Equal(order, []string{"p", key}) {
		t.Errorf("writes %q, want the login first", order)
	}
	if n := e.idp.ReuseDetected(); n != 0 {
		t.Errorf("reuse detected %d times", n)
	}

	// When the login itself cannot be saved, the derived token is not
	// written either, and the error says the refresh token is spent.
	e.st.setErr = func(k string) error {
		if k == "p" {
			return errors.New("keychain locked")
		}
		return nil
	}
	e.st.setOrder()
	_, err = s.FreshFor(ctx, target, time.Minute, true)
	var lr *LoginRequiredError
	if !errors.As(err, &lr) || !strings.Contains(err.Error(), "refreshed but could not be stored") {
		t.Fatalf("err %v", err)
	}
	if order := e.st.setOrder(); len(order) != 0 {
		t.Errorf("writes %q after a failed save of the login", order)
	}
}

// TestFreshForLoginGone: a cached derived token is not handed out once its
// login is gone, or belongs to another client than the profile's.
func TestFreshForLoginGone(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name    string
		change  func(e *env, s *Session)
		wantErr string
	}{
		{"login removed", func(e *env, s *Session) { e.st.Delete("p") }, `not logged in (profile "p")`},
		{"profile names another client", func(e *env, s *Session) { s.ClientID = "other-client" }, "another issuer or client"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t).withIdP(testidp.Options{})
			e.login(orgScope, resOne)
			s := e.session()
			target := Target{Resource: resOne}
			if _, err := s.FreshFor(ctx, target, time.Minute, false); err != nil {
				t.Fatal(err)
			}
			tt.change(e, s)
			_, err := s.FreshFor(ctx, target, time.Minute, false)
			var lr *LoginRequiredError
			if !errors.As(err, &lr) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestSaveLoginDropsDerived: a new login drops the tokens of the old one,
// and Remove drops everything.
func TestSaveLoginDropsDerived(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).withIdP(testidp.Options{})
	e.login(orgScope, resOne)
	s := e.session()
	for _, tg := range []Target{{Resource: resOne}, {Org: "acme"}} {
		if _, err := s.FreshFor(ctx, tg, time.Minute, false); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.st.keys()); n != 3 {
		t.Fatalf("%d entries before the new login", n)
	}
	next := e.login(orgScope, resOne)
	if keys := e.st.keys(); !slices.Equal(keys, []string{"p"}) || len(next.Derived) != 0 {
		t.Errorf("after a new login: keys %q, derived %q", keys, next.Derived)
	}
	if _, err := s.LoadDerived(Target{Org: "acme"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old organization token: %v", err)
	}

	if _, err := s.FreshFor(ctx, Target{Resource: resOne}, time.Minute, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if keys := e.st.keys(); len(keys) != 0 {
		t.Errorf("after Remove: %q", keys)
	}
	if err := s.Remove(ctx); err != nil {
		t.Errorf("Remove with nothing stored: %v", err)
	}
}

// A derived entry that cannot be read is not a token: it is fetched again.
func TestDerivedUnreadable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).withIdP(testidp.Options{})
	e.login(orgScope, resOne)
	target := Target{Resource: resOne}
	for _, raw := range []string{"{", `{"version":2,"access_token":"x"}`, `{"version":1}`} {
		e.st.Set(target.key("p"), []byte(raw))
		if _, err := e.session().LoadDerived(target); err == nil || err.Error() != "stored token is unreadable" {
			t.Errorf("%s: LoadDerived = %v", raw, err)
		}
	}
	if d, err := e.session().FreshFor(ctx, target, time.Minute, false); err != nil || e.idp.Grants("refresh_token") != 1 || d.Resource != resOne {
		t.Errorf("FreshFor over an unreadable entry: %v, %v", d, err)
	}
}

// refreshAt presents rt at the provider, as someone holding a revoked
// token would.
func refreshAt(e *env, rt string) error {
	c := grant.Client{ClientID: e.idp.ClientID(), TokenURL: e.idp.Endpoint("/token"), HTTP: e.hc, Now: e.clk.Now}
	_, err := c.Refresh(context.Background(), rt, nil)
	return err
}

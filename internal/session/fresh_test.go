package session

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// TestDue pins when a token counts as due: the default min-ttl is capped at
// half the lifetime the provider gives (so 60-second tokens do not refresh
// on every call), an explicit one is used as is, and a token without a
// known expiry is never due.
func TestDue(t *testing.T) {
	obtained := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name     string
		exact    bool
		lifetime time.Duration // 0: no known expiry
		noObtain bool          // an entry without obtained_at (an older sesame)
		elapsed  time.Duration // since obtained
		minTTL   time.Duration
		want     bool
	}{
		{name: "60s tokens, default 60s: capped at 30s, fresh", lifetime: time.Minute, minTTL: time.Minute, want: false},
		{name: "60s tokens, default: 31s left", lifetime: time.Minute, elapsed: 29 * time.Second, minTTL: time.Minute, want: false},
		{name: "60s tokens, default: exactly half left is due", lifetime: time.Minute, elapsed: 30 * time.Second, minTTL: time.Minute, want: true},
		{name: "60s tokens, explicit 60s: always due", exact: true, lifetime: time.Minute, minTTL: time.Minute, want: true},
		{name: "60s tokens, explicit 10s: 11s left", exact: true, lifetime: time.Minute, elapsed: 49 * time.Second, minTTL: 10 * time.Second, want: false},
		{name: "60s tokens, explicit 10s: exactly 10s left is due", exact: true, lifetime: time.Minute, elapsed: 50 * time.Second, minTTL: 10 * time.Second, want: true},
		{name: "1h tokens, default: cap does not bind, 61s left", lifetime: time.Hour, elapsed: time.Hour - 61*time.Second, minTTL: time.Minute, want: false},
		{name: "1h tokens, default: exactly 60s left is due", lifetime: time.Hour, elapsed: time.Hour - time.Minute, minTTL: time.Minute, want: true},
		{name: "1h tokens, default 2h: capped at 30m", lifetime: time.Hour, minTTL: 2 * time.Hour, want: false},
		{name: "1h tokens, explicit 2h: due at once", exact: true, lifetime: time.Hour, minTTL: 2 * time.Hour, want: true},
		{name: "unknown expiry, default", minTTL: 24 * time.Hour, want: false},
		{name: "unknown expiry, explicit", exact: true, minTTL: 24 * time.Hour, want: false},
		{name: "no obtained_at: no cap", noObtain: true, lifetime: time.Minute, minTTL: time.Minute, want: true},
		{name: "no obtained_at: 60s left, 59s wanted", noObtain: true, lifetime: time.Minute, minTTL: 59 * time.Second, want: false},
		{name: "zero min-ttl: 1s left", lifetime: time.Minute, elapsed: 59 * time.Second, want: false},
		{name: "zero min-ttl: exactly at expiry is due", lifetime: time.Minute, elapsed: time.Minute, want: true},
		{name: "expired long ago", lifetime: time.Minute, elapsed: time.Hour, minTTL: time.Minute, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := obtained.Add(tt.elapsed)
			s := &Session{ExactMinTTL: tt.exact, Now: func() time.Time { return now }}
			var exp, obt time.Time
			if tt.lifetime != 0 {
				exp = obtained.Add(tt.lifetime)
			}
			if !tt.noObtain {
				obt = obtained
			}
			if got := s.due(exp, obt, tt.minTTL); got != tt.want {
				t.Errorf("due = %v, want %v", got, tt.want)
			}
		})
	}
	// An expiry before obtained_at (a clock that jumped) gives no lifetime
	// to cap by: the expired token is due.
	now := obtained
	s := &Session{Now: func() time.Time { return now }}
	if !s.due(obtained.Add(-time.Second), obtained, time.Minute) {
		t.Error("a token that expired before it was obtained is not due")
	}
}

// TestFreshShortLivedTokens: through Fresh, against a provider giving
// 60-second tokens, the default min-ttl does not refresh on every call and
// an explicit 60 s one does.
func TestFreshShortLivedTokens(t *testing.T) {
	tests := []struct {
		name       string
		exact      bool
		minTTL     time.Duration
		advance    time.Duration // before the calls
		wantGrants int           // over five calls
	}{
		{name: "default 60s min-ttl", minTTL: time.Minute, wantGrants: 0},
		{name: "default, 29s later", minTTL: time.Minute, advance: 29 * time.Second, wantGrants: 0},
		{name: "default, 30s later: one refresh for all five", minTTL: time.Minute, advance: 30 * time.Second, wantGrants: 1},
		{name: "explicit 60s min-ttl: every call refreshes", exact: true, minTTL: time.Minute, wantGrants: 5},
		{name: "explicit 10s min-ttl", exact: true, minTTL: 10 * time.Second, wantGrants: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t).withIdP(testidp.Options{AccessTokenTTL: time.Minute})
			e.login("openid offline_access")
			e.clk.Advance(tt.advance)
			s := e.session()
			s.ExactMinTTL = tt.exact
			for range 5 {
				tok, err := s.Fresh(context.Background(), tt.minTTL, false)
				if err != nil {
					t.Fatal(err)
				}
				if tok.ExpiresWithin(e.clk.Now(), 0) {
					t.Fatalf("Fresh returned an expired token")
				}
			}
			if got := e.idp.Grants("refresh_token"); got != tt.wantGrants {
				t.Errorf("%d refresh grants, want %d", got, tt.wantGrants)
			}
		})
	}
}

// TestFreshRefreshedMeanwhile: process A sees a due token; before A gets
// the lock, process B refreshes. A re-reads under the lock and returns B's
// tokens without a second grant (unless forced), and never presents the
// refresh token B spent.
func TestFreshRefreshedMeanwhile(t *testing.T) {
	tests := []struct {
		name       string
		exact      bool
		minTTL     time.Duration
		force      bool
		wantGrants int
		wantB      bool // A returns B's access token
	}{
		{name: "B's tokens are valid for A's min-ttl", minTTL: time.Minute, wantGrants: 1, wantB: true},
		{name: "B's tokens are inside A's explicit min-ttl: used all the same", exact: true, minTTL: 2 * time.Hour, wantGrants: 1, wantB: true},
		{name: "A forces a refresh: a second grant, with B's refresh token", minTTL: time.Minute, force: true, wantGrants: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t).withIdP(testidp.Options{})
			e.login("openid offline_access")
			e.clk.Advance(time.Hour - 30*time.Second) // due for a 60 s min-ttl

			b := e.session()
			var bTok *Tokens
			var bErr error
			reads := 0
			a := e.session()
			a.ExactMinTTL = tt.exact
			a.Store = hookStore{Store: e.st, afterGet: func(key string) {
				if key != Key("p") {
					return
				}
				if reads++; reads == 1 { // A has read the due token: now B runs
					bTok, bErr = b.Fresh(ctx, time.Minute, false)
				}
			}}
			got, err := a.Fresh(ctx, tt.minTTL, tt.force)
			if err != nil || bErr != nil {
				t.Fatalf("A: %v; B: %v", err, bErr)
			}
			if reads != 2 {
				t.Errorf("A read the entry %d times, want 2 (before and under the lock)", reads)
			}
			if n := e.idp.Grants("refresh_token"); n != tt.wantGrants {
				t.Errorf("%d refresh grants, want %d", n, tt.wantGrants)
			}
			if (got.AccessToken == bTok.AccessToken) != tt.wantB {
				t.Errorf("A's access token is B's: %v, want %v", got.AccessToken == bTok.AccessToken, tt.wantB)
			}
			if n := e.idp.ReuseDetected(); n != 0 {
				t.Errorf("a spent refresh token was presented %d times", n)
			}
			if st := e.stored(); st.AccessToken != got.AccessToken || st.RefreshToken != got.RefreshToken {
				t.Errorf("stored %q/%q, A returned %q/%q", st.AccessToken, st.RefreshToken, got.AccessToken, got.RefreshToken)
			}
		})
	}
}

// TestFreshConcurrentProcesses: many sessions (each its own lock file
// handle, like separate processes) ask at once for a due token: one
// refresh grant, one token for all.
func TestFreshConcurrentProcesses(t *testing.T) {
	e := newEnv(t).withIdP(testidp.Options{})
	e.login("openid offline_access")
	e.clk.Advance(time.Hour - 30*time.Second)
	const n = 20
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tok, err := e.session().Fresh(context.Background(), time.Minute, false)
			errs[i] = err
			if err == nil {
				got[i] = tok.AccessToken
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i] != got[0] {
			t.Fatalf("session %d: %q, %v; session 0 got %q", i, got[i], errs[i], got[0])
		}
	}
	if g := e.idp.Grants("refresh_token"); g != 1 {
		t.Errorf("%d refresh grants, want 1", g)
	}
	if r := e.idp.ReuseDetected(); r != 0 {
		t.Errorf("reuse detected %d times", r)
	}
}

// cannedLogin stores a login whose token endpoint is te and whose access
// token expires in 30 s (due for a 60 s min-ttl), with a verified ID token.
func (e *env) cannedLogin(te *tokenEndpoint) *Tokens {
	e.t.Helper()
	raw := e.idToken(nil)
	now := e.clk.Now()
	e.put(&Tokens{
		ClientID:    e.idp.ClientID(),
		Endpoints:   provider.Endpoints{Issuer: e.idp.Issuer, JWKS: e.idp.Endpoint("/jwks"), Token: te.URL},
		AccessToken: "at-0", TokenType: "Bearer", RefreshToken: "rt-0",
		IDToken: raw, Identity: e.identity(raw),
		Expiry: now.Add(30 * time.Second), ObtainedAt: now.Add(30*time.Second - time.Hour),
		Scope: "openid offline_access",
	})
	return e.stored()
}

// TestFreshRefreshOutcomes: what a refresh stores for each kind of answer
// from the token endpoint.
func TestFreshRefreshOutcomes(t *testing.T) {
	// other signs with a key the provider never published.
	other := testidp.New(t, testidp.Options{Alg: "ES256"})
	ok := func(extra map[string]any) func(*env) (int, any) {
		return func(e *env) (int, any) {
			body := map[string]any{"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600}
			for k, v := range extra {
				if f, isFunc := v.(func(*env) string); isFunc {
					v = f(e)
				}
				body[k] = v
			}
			return 200, body
		}
	}
	newID := func(edit func(map[string]any)) func(*env) string {
		return func(e *env) string {
			e.clk.Advance(time.Second) // a later iat and exp than the stored one
			return e.idToken(edit)
		}
	}
	foreignKey := func(e *env) string {
		c := e.idp.Claims()
		return other.SignIDToken(c)
	}
	oauthErr := func(status int, code string) func(*env) (int, any) {
		return func(*env) (int, any) { return status, map[string]any{"error": code, "error_description": "refused"} }
	}
	tests := []struct {
		name     string
		respond  func(*env) (int, any)
		dead     bool   // the token endpoint does not answer at all
		wantErr  string // "" for success
		login    bool   // the error is a LoginRequiredError
		ended    bool   // the store records the end of the login instead of staying as it was
		wantWarn string
		check    func(t *testing.T, e *env, before, after *Tokens)
	}{
		{name: "rotation: new refresh, access and ID token stored",
			respond: ok(map[string]any{"refresh_token": "rt-1", "id_token": newID(nil), "scope": "openid offline_access"}),
			check: func(t *testing.T, e *env, before, after *Tokens) {
				if after.RefreshToken != "rt-1" || after.AccessToken != "at-1" || after.IDToken == before.IDToken {
					t.Errorf("stored %q %q, ID token replaced %v", after.RefreshToken, after.AccessToken, after.IDToken != before.IDToken)
				}
				if !after.Expiry.Equal(e.clk.Now().Add(time.Hour)) || !after.ObtainedAt.Equal(e.clk.Now()) {
					t.Errorf("expiry %v obtained %v, now %v", after.Expiry, after.ObtainedAt, e.clk.Now())
				}
				if !after.Identity.Expiry.After(before.Identity.Expiry) || after.Identity.Subject != testidp.Subject {
					t.Errorf("identity %+v, was %+v", after.Identity, before.Identity)
				}
			}},
		{name: "no refresh token in the answer: the old one stays",
			respond: ok(nil),
			check: func(t *testing.T, e *env, before, after *Tokens) {
				if after.RefreshToken != "rt-0" || after.AccessToken != "at-1" {
					t.Errorf("stored %q %q", after.RefreshToken, after.AccessToken)
				}
			}},
		{name: "no ID token: the old one and its identity stay",
			respond: ok(map[string]any{"refresh_token": "rt-1"}),
			check: func(t *testing.T, e *env, before, after *Tokens) {
				if after.IDToken != before.IDToken || !reflect.DeepEqual(after.Identity, before.Identity) || after.RefreshToken != "rt-1" {
					t.Errorf("ID token kept %v, identity %+v, refresh token %q", after.IDToken == before.IDToken, after.Identity, after.RefreshToken)
				}
			}},
		{name: "no scope in the answer: the old one stays",
			respond: ok(map[string]any{"refresh_token": "rt-1"}),
			check: func(t *testing.T, e *env, before, after *Tokens) {
				if after.Scope != before.Scope {
					t.Errorf("scope %q", after.Scope)
				}
			}},
		{name: "a narrower scope in the answer replaces it",
			respond: ok(map[string]any{"refresh_token": "rt-1", "scope": "openid"}),
			check: func(t *testing.T, e *env, before, after *Tokens) {
				if after.Scope != "openid" {
					t.Errorf("scope %q", after.Scope)
				}
			}},
		{name: "ID token signed by another key: old one kept, refresh token stored, warned",
			respond:  ok(map[string]any{"refresh_token": "rt-1", "id_token": foreignKey}),
			wantWarn: "failed verification",
			check:    keptOldID},
		{name: "ID token for another subject: old one kept, warned",
			respond:  ok(map[string]any{"refresh_token": "rt-1", "id_token": newID(func(c map[string]any) { c["sub"] = "mallory" })}),
			wantWarn: `another subject ("mallory", was "alice")`,
			check:    keptOldID},
		{name: "ID token for another client: old one kept, warned",
			respond:  ok(map[string]any{"refresh_token": "rt-1", "id_token": newID(func(c map[string]any) { c["aud"] = "other-client" })}),
			wantWarn: "failed verification",
			check:    keptOldID},
		{name: "expired ID token: old one kept, warned",
			respond:  ok(map[string]any{"refresh_token": "rt-1", "id_token": newID(func(c map[string]any) { c["exp"] = c["iat"].(int64) - 3600 })}),
			wantWarn: "expired",
			check:    keptOldID},
		{name: "invalid_grant: the login has ended, and the store says so", respond: oauthErr(400, "invalid_grant"),
			wantErr: "no longer accepts the refresh token", login: true, ended: true},
		{name: "access_denied on a plain refresh: a plain error", respond: oauthErr(400, "access_denied"),
			wantErr: "the provider answered access_denied"},
		{name: "invalid_target without a resource: a plain error", respond: oauthErr(400, "invalid_target"),
			wantErr: "the provider answered invalid_target"},
		{name: "an HTML error page: a plain error", respond: func(*env) (int, any) { return 502, "<html>bad gateway</html>" },
			wantErr: "HTTP 502"},
		{name: "the network fails: a plain error", dead: true, wantErr: "could not reach the token endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t).withIdP(testidp.Options{})
			te := newTokenEndpoint(t, func(url.Values) (int, any) { return 500, "unset" })
			te.respond = func(url.Values) (int, any) { return tt.respond(e) }
			before := e.cannedLogin(te)
			if tt.dead {
				before.Endpoints.Token = deadURL(t)
				e.put(before)
				before = e.stored()
			}
			snap := e.st.snapshot()
			got, err := e.session().Fresh(context.Background(), time.Minute, false)

			calls := te.calls()
			if !tt.dead {
				if len(calls) != 1 {
					t.Fatalf("%d token requests, want 1", len(calls))
				}
				f := calls[0]
				if f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != "rt-0" || f.Get("client_id") != "test-client" || f.Has("resource") || f.Has("organization_id") {
					t.Errorf("request %v", f)
				}
			}
			warns := e.warns.all()
			if tt.wantErr != "" {
				var lr *LoginRequiredError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &lr) != tt.login {
					t.Fatalf("err %v, want %q (login required: %v)", err, tt.wantErr, tt.login)
				}
				if after := e.st.snapshot(); tt.ended {
					if got, _ := decode([]byte(after["p"])); got == nil || got.Ended == nil || got.AccessToken != "" || got.RefreshToken != "" {
						t.Errorf("the end of the login is not recorded: %s", after["p"])
					}
				} else if !equalSnap(after, snap) {
					t.Errorf("the store changed after a failed refresh:\n%v\n%v", snap, after)
				}
				if len(warns) != 0 {
					t.Errorf("warnings %q", warns)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			after := e.stored()
			if got.AccessToken != after.AccessToken || got.RefreshToken != after.RefreshToken || got.IDToken != after.IDToken {
				t.Errorf("returned tokens differ from the stored ones")
			}
			if tt.wantWarn == "" && len(warns) != 0 {
				t.Errorf("warnings %q", warns)
			}
			if tt.wantWarn != "" && (len(warns) != 1 || !strings.Contains(warns[0], "kept the previous ID token") || !strings.Contains(warns[0], tt.wantWarn)) {
				t.Errorf("warnings %q, want one with %q", warns, tt.wantWarn)
			}
			tt.check(t, e, before, after)
		})
	}
}

func keptOldID(t *testing.T, e *env, before, after *Tokens) {
	t.Helper()
	if after.IDToken != before.IDToken || !reflect.DeepEqual(after.Identity, before.Identity) {
		t.Errorf("the refused ID token replaced the old one: identity %+v", after.Identity)
	}
	if after.RefreshToken != "rt-1" || after.AccessToken != "at-1" {
		t.Errorf("the refresh was not stored: %q %q", after.RefreshToken, after.AccessToken)
	}
}

func equalSnap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestFreshWhenToRefresh: Fresh refreshes exactly when the token is due or
// a refresh is forced, and a token without a known expiry only when forced.
func TestFreshWhenToRefresh(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn time.Duration // 0: unknown
		minTTL    time.Duration
		force     bool
		wantCalls int
	}{
		{name: "valid", expiresIn: time.Hour, minTTL: time.Minute},
		{name: "valid, forced", expiresIn: time.Hour, minTTL: time.Minute, force: true, wantCalls: 1},
		{name: "due", expiresIn: 30 * time.Second, minTTL: time.Minute, wantCalls: 1},
		{name: "expired", expiresIn: -time.Hour, wantCalls: 1},
		{name: "unknown expiry", minTTL: time.Hour},
		{name: "unknown expiry, forced", force: true, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t).withIdP(testidp.Options{})
			te := newTokenEndpoint(t, func(url.Values) (int, any) {
				return 200, map[string]any{"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600}
			})
			tok := e.cannedLogin(te)
			tok.Expiry, tok.ObtainedAt = time.Time{}, time.Time{}
			if tt.expiresIn != 0 {
				tok.Expiry = e.clk.Now().Add(tt.expiresIn)
			}
			e.put(tok)
			got, err := e.session().Fresh(context.Background(), tt.minTTL, tt.force)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(te.calls()); n != tt.wantCalls {
				t.Errorf("%d token requests, want %d", n, tt.wantCalls)
			}
			if want := map[int]string{0: "at-0", 1: "at-1"}[tt.wantCalls]; got.AccessToken != want {
				t.Errorf("access token %q, want %q", got.AccessToken, want)
			}
		})
	}
}

// A refresh the store then refuses to save leaves a spent refresh token
// behind: that is a LoginRequiredError that says so.
func TestFreshSaveFails(t *testing.T) {
	e := newEnv(t).withIdP(testidp.Options{})
	te := newTokenEndpoint(t, func(url.Values) (int, any) {
		return 200, map[string]any{"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600}
	})
	e.cannedLogin(te)
	e.st.setErr = func(string) error { return errors.New("keychain full") }
	_, err := e.session().Fresh(context.Background(), time.Minute, false)
	var lr *LoginRequiredError
	if !errors.As(err, &lr) || !strings.Contains(err.Error(), "refreshed but could not be stored (store tokens: keychain full)") {
		t.Fatalf("err %v", err)
	}
}

// Session.TokenURL (a broker) replaces the stored token endpoint.
func TestFreshTokenURLOverride(t *testing.T) {
	e := newEnv(t).withIdP(testidp.Options{})
	te := newTokenEndpoint(t, func(url.Values) (int, any) {
		return 200, map[string]any{"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600}
	})
	tok := e.cannedLogin(te)
	tok.Endpoints.Token = deadURL(t)
	e.put(tok)
	s := e.session()
	s.TokenURL = te.URL
	got, err := s.Fresh(context.Background(), time.Minute, false)
	if err != nil || got.AccessToken != "at-1" || len(te.calls()) != 1 {
		t.Fatalf("%v, %v, %d calls", got, err, len(te.calls()))
	}
}

// TestFreshID: the ID token is refreshed when it is due, and one that has
// expired, or was never verified, is not handed out.
func TestFreshID(t *testing.T) {
	tests := []struct {
		name       string
		idToken    string         // stored; "new" is replaced by nothing
		identity   *time.Duration // stored identity's expiry from now; nil: no identity
		zeroExpiry bool           // an identity without an expiry
		answerID   string         // "": the refresh brings no ID token; "valid", "mallory"
		wantCalls  int
		wantErr    string
		login      bool
		wantNewID  bool
		wantWarn   bool
	}{
		{name: "valid for min-ttl: no refresh", idToken: "old-id", identity: ptr(time.Hour)},
		{name: "due: a refresh brings a new one", idToken: "old-id", identity: ptr(30 * time.Second), answerID: "valid", wantCalls: 1, wantNewID: true},
		{name: "due, none sent, still valid: the old one", idToken: "old-id", identity: ptr(30 * time.Second), wantCalls: 1},
		{name: "expired, none sent: login required", idToken: "old-id", identity: ptr(-time.Second), wantCalls: 1,
			wantErr: "the ID token has expired and the provider issued no new one on refresh", login: true},
		{name: "expired, the new one refused: login required", idToken: "old-id", identity: ptr(-time.Second), answerID: "mallory", wantCalls: 1,
			wantErr: "has expired", login: true, wantWarn: true},
		{name: "no identity recorded: login required", idToken: "old-id",
			wantErr: "the stored ID token carries no record of its verification", login: true},
		{name: "identity without expiry: login required", idToken: "old-id", identity: ptr(time.Duration(0)), zeroExpiry: true,
			wantErr: "no record of its verification", login: true},
		{name: "no ID token: a plain error", wantErr: `profile "p" has no ID token`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t).withIdP(testidp.Options{})
			te := newTokenEndpoint(t, func(url.Values) (int, any) {
				body := map[string]any{"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600}
				switch tt.answerID {
				case "valid":
					body["id_token"] = e.idToken(nil)
				case "mallory":
					body["id_token"] = e.idToken(func(c map[string]any) { c["sub"] = "mallory" })
				}
				return 200, body
			})
			tok := e.cannedLogin(te)
			tok.Expiry = e.clk.Now().Add(time.Hour) // the access token is not what is due
			tok.IDToken, tok.Identity = tt.idToken, nil
			if tt.identity != nil {
				tok.Identity = &provider.Identity{Subject: testidp.Subject, Expiry: e.clk.Now().Add(*tt.identity)}
				if tt.zeroExpiry {
					tok.Identity.Expiry = time.Time{}
				}
			}
			e.put(tok)
			got, err := e.session().FreshID(context.Background(), time.Minute)
			if n := len(te.calls()); n != tt.wantCalls {
				t.Errorf("%d token requests, want %d", n, tt.wantCalls)
			}
			if w := e.warns.all(); (len(w) > 0) != tt.wantWarn {
				t.Errorf("warnings %q", w)
			}
			if tt.wantErr != "" {
				var lr *LoginRequiredError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &lr) != tt.login {
					t.Fatalf("err %v, want %q (login required: %v)", err, tt.wantErr, tt.login)
				}
				if tt.wantCalls > 0 && e.stored().RefreshToken != "rt-1" {
					t.Error("the rotated refresh token was not stored")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got.IDToken != tt.idToken) != tt.wantNewID {
				t.Errorf("new ID token %v, want %v", got.IDToken != tt.idToken, tt.wantNewID)
			}
			if !got.Identity.Expiry.After(e.clk.Now()) {
				t.Errorf("returned an ID token expiring %v", got.Identity.Expiry)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

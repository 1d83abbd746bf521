package session

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/testidp"
)

// What sesame reports is true: a grant the provider ended is recorded as
// ended, endpoint settings made after the login apply to it, logout always
// removes the tokens and says when the provider was not told, and
// `status --check` asks the provider.

// rawEntry decodes the login's entry as stored, ended or not.
func rawEntry(t *testing.T, e *env) *Tokens {
	t.Helper()
	b, err := e.st.Get("p")
	if err != nil {
		t.Fatalf("the login's entry: %v", err)
	}
	tok, err := decode(b)
	if err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return tok
}

// TestEndedGrant: a refresh refused with invalid_grant (here the provider
// ended every grant) is recorded in the store: no token is kept, derived
// entries go, and every later use is a LoginRequiredError that says why,
// without a request to the provider. Logout then removes it without a
// revocation request.
func TestEndedGrant(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).withIdP(testidp.Options{})
	e.login(orgScope, resOne)
	s := e.session()
	if _, err := s.FreshFor(ctx, Target{Resource: resOne}, time.Minute, false); err != nil {
		t.Fatal(err)
	}
	derived := rawEntry(t, e).Derived
	e.idp.RevokeAll()
	e.clk.Advance(2 * time.Hour)

	_, err := s.Fresh(ctx, time.Minute, false)
	var lr *LoginRequiredError
	if !errors.As(err, &lr) || !strings.Contains(err.Error(), "no longer accepts the refresh token") {
		t.Fatalf("refresh of an ended grant: %v", err)
	}
	got := rawEntry(t, e)
	if got.Ended == nil || !got.Ended.At.Equal(e.clk.Now()) || !strings.HasPrefix(got.Ended.Reason, "invalid_grant") {
		t.Fatalf("ended %+v", got.Ended)
	}
	if got.AccessToken != "" || got.RefreshToken != "" || got.IDToken != "" || len(got.Derived) != 0 {
		t.Errorf("an ended login keeps tokens: %+v", got)
	}
	if got.ClientID != e.idp.ClientID() || got.Endpoints.Issuer != e.idp.Issuer || got.Identity == nil || got.Identity.Subject != testidp.Subject {
		t.Errorf("an ended login forgot whose it was: %+v", got)
	}
	for _, k := range derived {
		if _, err := e.st.Get(k); err == nil {
			t.Errorf("derived entry %s left after the grant ended", k)
		}
	}

	grants := e.idp.Grants("refresh_token")
	uses := map[string]func() error{
		"Load":    func() error { _, err := s.Load(); return err },
		"Fresh":   func() error { _, err := s.Fresh(ctx, time.Minute, true); return err },
		"FreshID": func() error { _, err := s.FreshID(ctx, time.Minute); return err },
		"FreshFor": func() error {
			_, err := s.FreshFor(ctx, Target{Resource: resOne}, time.Minute, false)
			return err
		},
		"Revoke": func() error { return s.Revoke(ctx, false) },
		"Check":  func() error { _, err := s.Check(ctx); return err },
	}
	for name, use := range uses {
		err := use()
		if !errors.As(err, &lr) || lr.Ended == nil || !strings.Contains(err.Error(), "has ended") || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("%s of an ended login: %v", name, err)
		}
	}
	if g := e.idp.Grants("refresh_token"); g != grants {
		t.Errorf("%d refresh requests after the end was recorded", g-grants)
	}

	revocations := newTokenEndpoint(t, func(url.Values) (int, any) { return 200, map[string]any{} })
	s.RevocationURL = revocations.URL
	if got, err := s.Logout(ctx, true); got != nil || err != nil {
		t.Fatalf("Logout of an ended login: %v, %v", got, err)
	}
	if keys := e.st.keys(); len(keys) != 0 || len(revocations.calls()) != 0 {
		t.Errorf("after logout: keys %q, %d revocation requests", keys, len(revocations.calls()))
	}
}

// TestEndedOnlyForTheLogin: invalid_grant for a resource or organization
// token is not taken as the end of the grant (a provider may refuse one
// target only), and other refusals never are.
func TestEndedOnlyForTheLogin(t *testing.T) {
	for _, tt := range []struct {
		name   string
		target Target
		code   string
		ended  bool
	}{
		{"invalid_grant for the login", Target{}, "invalid_grant", true},
		{"invalid_grant for a resource", Target{Resource: resOne}, "invalid_grant", false},
		{"invalid_grant for an organization", Target{Org: "acme"}, "invalid_grant", false},
		{"invalid_client", Target{}, "invalid_client", false},
		{"invalid_request", Target{}, "invalid_request", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t).withIdP(testidp.Options{})
			te := newTokenEndpoint(t, func(url.Values) (int, any) {
				return 400, map[string]any{"error": tt.code, "error_description": "refused\x1b[31m"}
			})
			tok := e.cannedLogin(te)
			tok.Scope += " " + OrganizationsScope
			e.put(tok)
			snap := e.st.snapshot()
			var err error
			if tt.target.IsBase() {
				_, err = e.session().Fresh(context.Background(), time.Minute, true)
			} else {
				_, err = e.session().FreshFor(context.Background(), tt.target, time.Minute, true)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if ended := rawEntry(t, e).Ended; (ended != nil) != tt.ended {
				t.Fatalf("ended = %+v, want %v", ended, tt.ended)
			} else if ended != nil && ended.Reason != `invalid_grant: refused\x1b[31m` {
				t.Errorf("reason %q: the provider's words, inert", ended.Reason)
			}
			if !tt.ended && !equalSnap(e.st.snapshot(), snap) {
				t.Error("the store changed")
			}
		})
	}
}

// TestEndedEntryFormat: an ended entry decodes without tokens (an entry
// without them is otherwise unreadable), keeps format version 1, and an
// older sesame's reader, which knows no "ended", finds no access token in
// it rather than a live login.
func TestEndedEntryFormat(t *testing.T) {
	raw := []byte(`{"version":1,"client_id":"c","endpoints":{"issuer":"https://idp.example","authorization_endpoint":"","token_endpoint":"https://idp.example/token"},"access_token":"","updated_at":"2026-01-01T00:00:00Z","ended":{"at":"2026-01-01T00:00:00Z","reason":"invalid_grant"}}`)
	tok, err := decode(raw)
	if err != nil || tok.Ended == nil || tok.Ended.Reason != "invalid_grant" {
		t.Fatalf("decode: %+v %v", tok, err)
	}
	var old struct {
		Version     int    `json:"version"`
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(raw, &old); err != nil || old.Version != 1 || old.AccessToken != "" {
		t.Errorf("an older reader: %+v %v", old, err)
	}
	if _, err := decode([]byte(`{"version":1,"access_token":""}`)); err == nil {
		t.Error("an entry without tokens that is not ended was accepted")
	}
	if long := strings.Repeat("é", 300); true {
		e := newEnv(t).withIdP(testidp.Options{})
		te := newTokenEndpoint(t, func(url.Values) (int, any) {
			return 400, map[string]any{"error": "invalid_grant", "error_description": long}
		})
		e.cannedLogin(te)
		e.session().Fresh(context.Background(), 0, true)
		if r := rawEntry(t, e).Ended.Reason; len([]rune(r)) != len("invalid_grant: ")+201 {
			t.Errorf("a long description is kept whole: %d runes", len([]rune(r)))
		}
	}
}

// userinfoServer answers userinfo requests and records their tokens.
type userinfoServer struct {
	URL    string
	mu     sync.Mutex
	tokens []string
}

func newUserinfoServer(t *testing.T, status int, body string) *userinfoServer {
	u := &userinfoServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.tokens = append(u.tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		u.mu.Unlock()
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	u.URL = srv.URL
	return u
}

func (u *userinfoServer) calls() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.tokens...)
}

// TestOverridesApplyToStoredLogin: endpoints the profile names after the
// login (file, SESAME_*_URL, flags: Session.Overrides) are used for the
// stored login, are not written into it by a refresh, and pass the URL
// policy.
func TestOverridesApplyToStoredLogin(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t).withIdP(testidp.Options{})
	login := e.login("openid offline_access")
	late := newUserinfoServer(t, 200, `{"sub":"alice","from":"late"}`)
	s := e.session()
	s.Overrides = Endpoints{Userinfo: late.URL, Issuer: "https://ignored.example"}
	resp, err := s.Userinfo(ctx)
	if err != nil || !strings.Contains(string(resp.Body), `"late"`) {
		t.Fatalf("userinfo: %v %v", resp, err)
	}
	if calls := late.calls(); len(calls) != 1 || calls[0] != login.AccessToken {
		t.Errorf("the late userinfo endpoint got %q", calls)
	}
	if _, err := s.Fresh(ctx, 0, true); err != nil {
		t.Fatal(err)
	}
	if got := rawEntry(t, e).Endpoints; got.Userinfo != login.Endpoints.Userinfo || got.Issuer != e.idp.Issuer {
		t.Errorf("a refresh stored the profile's setting: %+v", got)
	}
	if got, _ := s.Load(); got.Endpoints.Userinfo != late.URL {
		t.Errorf("Load: userinfo %q", got.Endpoints.Userinfo)
	}

	// A late token endpoint is where the refresh goes.
	te := newTokenEndpoint(t, func(url.Values) (int, any) {
		return 200, map[string]any{"access_token": "at-late", "token_type": "Bearer", "expires_in": 3600}
	})
	s.Overrides = Endpoints{Token: te.URL}
	if got, err := s.Fresh(ctx, 0, true); err != nil || got.AccessToken != "at-late" || len(te.calls()) != 1 {
		t.Fatalf("refresh at the late token endpoint: %v %v", got, err)
	}

	// The one URL policy applies to a late endpoint too.
	s.Overrides = Endpoints{Userinfo: "http://userinfo.example.com/me"}
	if _, err := s.Load(); err == nil || !strings.Contains(err.Error(), "the profile's userinfo_url") {
		t.Errorf("a plain-http userinfo_url: %v", err)
	}
}

// revocationServer refuses client_id in the form with 401 invalid_client
// and accepts it as the HTTP Basic user with an empty password.
type revocationServer struct {
	URL   string
	mu    sync.Mutex
	basic []bool
}

func newRevocationServer(t *testing.T, clientID string) *revocationServer {
	rs := &revocationServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		user, pass, ok := r.BasicAuth()
		rs.mu.Lock()
		rs.basic = append(rs.basic, ok)
		rs.mu.Unlock()
		if ok && user == clientID && pass == "" && !r.PostForm.Has("client_id") && r.PostForm.Get("token") != "" {
			w.WriteHeader(200)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		w.Write([]byte(`{"error":"invalid_client","error_description":"client authentication failed"}`))
	}))
	t.Cleanup(srv.Close)
	rs.URL = srv.URL
	return rs
}

func (rs *revocationServer) calls() []bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]bool(nil), rs.basic...)
}

// TestRevocationClientAuth: a refusal of the client is retried once with
// HTTP Basic when the provider advertises client_secret_basic for
// revocation, or advertises nothing (RFC 8414 §2's default); not when it
// asks for what was sent, nor through a broker. Logout removes the tokens
// either way; Revoke keeps them when the provider refused.
func TestRevocationClientAuth(t *testing.T) {
	for _, tt := range []struct {
		name     string
		methods  []string
		broker   bool
		wantOK   bool
		wantSays string
		calls    int
	}{
		{name: "nothing advertised: Basic retried", wantOK: true, calls: 2},
		{name: "client_secret_basic advertised", methods: []string{"none", "client_secret_basic"}, wantOK: true, calls: 2},
		{name: "only none advertised: the refusal stands", methods: []string{"none"}, wantSays: "invalid_client", calls: 1},
		{name: "a credential needed", methods: []string{"private_key_jwt"}, wantSays: "takes only private_key_jwt", calls: 1},
		{name: "through a broker: its answer stands", broker: true, wantSays: "invalid_client", calls: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, logout := range []bool{true, false} {
				e := newEnv(t).withIdP(testidp.Options{})
				rs := newRevocationServer(t, e.idp.ClientID())
				te := newTokenEndpoint(t, func(url.Values) (int, any) { return 500, "unused" })
				tok := e.cannedLogin(te)
				tok.Endpoints.Revocation, tok.Endpoints.RevocationAuth = rs.URL, tt.methods
				e.put(tok)
				s := e.session()
				if tt.broker {
					s.RevocationURL = rs.URL
				}
				var err error
				if logout {
					_, err = s.Logout(context.Background(), true)
				} else {
					err = s.Revoke(context.Background(), false)
				}
				if n := len(rs.calls()); n != tt.calls {
					t.Errorf("logout=%v: %d requests, want %d", logout, n, tt.calls)
				}
				if tt.wantOK {
					if err != nil {
						t.Errorf("logout=%v: %v", logout, err)
					}
					continue
				}
				var nr *NotRevokedError
				if err == nil || !strings.Contains(err.Error(), tt.wantSays) || errors.As(err, &nr) != logout {
					t.Errorf("logout=%v: %v, want %q", logout, err, tt.wantSays)
				}
				if left := len(e.st.keys()) > 0; left == logout {
					t.Errorf("logout=%v: tokens left %v", logout, left)
				}
			}
		})
	}
}

// TestCheck: how `status --check` asks the provider, and what it concludes.
func TestCheck(t *testing.T) {
	okToken := func(url.Values) (int, any) {
		return 200, map[string]any{"access_token": "at-1", "refresh_token": "rt-1", "token_type": "Bearer", "expires_in": 3600}
	}
	deadGrant := func(url.Values) (int, any) { return 400, map[string]any{"error": "invalid_grant"} }
	introspection := func(t *testing.T, active bool) string {
		te := newTokenEndpoint(t, func(url.Values) (int, any) { return 200, map[string]any{"active": active} })
		return te.URL
	}
	for _, tt := range []struct {
		name      string
		expired   bool
		noRefresh bool
		userinfo  int // status of a userinfo endpoint; 0 for none
		active    *bool
		token     func(url.Values) (int, any)
		want      string
		wantErr   string
		login     bool // the error is a LoginRequiredError
		ended     bool // and the end is recorded
		refreshes int
	}{
		{name: "expired: a refresh", expired: true, userinfo: 200, token: okToken, want: CheckedByRefresh, refreshes: 1},
		{name: "expired, grant dead", expired: true, userinfo: 200, token: deadGrant, wantErr: "no longer accepts", login: true, ended: true, refreshes: 1},
		{name: "valid: userinfo", userinfo: 200, token: okToken, want: CheckedByUserinfo},
		{name: "userinfo refuses, refresh works", userinfo: 401, token: okToken, wantErr: "HTTP 401", refreshes: 1},
		{name: "userinfo refuses, grant dead", userinfo: 401, token: deadGrant, wantErr: "no longer accepts", login: true, ended: true, refreshes: 1},
		{name: "userinfo fails", userinfo: 500, token: okToken, wantErr: "HTTP 500"},
		{name: "introspection: active", active: ptr(true), token: okToken, want: CheckedByIntrospection},
		{name: "introspection: inactive, refresh works", active: ptr(false), token: okToken, want: CheckedByRefresh, refreshes: 1},
		{name: "introspection: inactive, grant dead", active: ptr(false), token: deadGrant, wantErr: "no longer accepts", login: true, ended: true, refreshes: 1},
		{name: "introspection: inactive, no refresh token", active: ptr(false), noRefresh: true, token: okToken, wantErr: "no longer active", login: true},
		{name: "nothing but a refresh token", token: okToken, want: CheckedByRefresh, refreshes: 1},
		{name: "nothing to ask", noRefresh: true, token: okToken, wantErr: ErrCannotCheck.Error()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t).withIdP(testidp.Options{})
			te := newTokenEndpoint(t, tt.token)
			tok := e.cannedLogin(te)
			tok.Expiry = e.clk.Now().Add(time.Hour)
			if tt.expired {
				tok.Expiry = e.clk.Now().Add(-time.Second)
			}
			if tt.noRefresh {
				tok.RefreshToken = ""
			}
			if tt.userinfo != 0 {
				tok.Endpoints.Userinfo = newUserinfoServer(t, tt.userinfo, `{"sub":"alice"}`).URL
			}
			if tt.active != nil {
				tok.Endpoints.Introspection = introspection(t, *tt.active)
			}
			e.put(tok)
			how, err := e.session().Check(context.Background())
			if n := len(te.calls()); n != tt.refreshes {
				t.Errorf("%d refreshes, want %d", n, tt.refreshes)
			}
			if tt.wantErr == "" {
				if err != nil || how != tt.want {
					t.Fatalf("Check = %q, %v; want %q", how, err, tt.want)
				}
				return
			}
			var lr *LoginRequiredError
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &lr) != tt.login {
				t.Fatalf("Check = %q, %v; want %q (login required %v)", how, err, tt.wantErr, tt.login)
			}
			if ended := rawEntry(t, e).Ended != nil; ended != tt.ended {
				t.Errorf("ended recorded %v, want %v", ended, tt.ended)
			}
		})
	}
}

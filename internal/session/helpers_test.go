package session

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/store"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// httpTimeout bounds every HTTP call the tests make.
const httpTimeout = 10 * time.Second

// fakeClock is a settable clock, safe to read from the provider's handler
// goroutines (kubelogin's fake clock, with a lock).
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0).UTC()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// memStore is an in-memory store.Store, safe for concurrent use. It
// records the order of writes, and fails reads or writes on demand.
type memStore struct {
	mu   sync.Mutex
	m    map[string][]byte
	sets []string // keys, in the order they were set
	// getErr, setErr and delErr, when they return an error for a key, make
	// Get, Set or Delete fail with it.
	getErr, setErr, delErr func(key string) error
}

func newMemStore() *memStore { return &memStore{m: map[string][]byte{}} }

func (s *memStore) Get(key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.getErr != nil {
		if err := s.getErr(key); err != nil {
			return nil, err
		}
	}
	v, ok := s.m[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return slices.Clone(v), nil
}

func (s *memStore) Set(key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.setErr != nil {
		if err := s.setErr(key); err != nil {
			return err
		}
	}
	s.m[key] = slices.Clone(value)
	s.sets = append(s.sets, key)
	return nil
}

func (s *memStore) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.delErr != nil {
		if err := s.delErr(key); err != nil {
			return err
		}
	}
	delete(s.m, key)
	return nil
}

func (s *memStore) Backend() string { return "memory" }

// snapshot copies every entry, for "left byte-identical" checks.
func (s *memStore) snapshot() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.m))
	for k, v := range s.m {
		out[k] = string(v)
	}
	return out
}

func (s *memStore) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.m))
}

// setOrder returns the keys set since the last call.
func (s *memStore) setOrder() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sets
	s.sets = nil
	return out
}

// hookStore runs afterGet after each Get has read its value and before it
// returns it: another process's work can happen exactly there.
type hookStore struct {
	store.Store
	afterGet func(key string)
}

func (h hookStore) Get(key string) ([]byte, error) {
	b, err := h.Store.Get(key)
	if h.afterGet != nil {
		h.afterGet(key)
	}
	return b, err
}

// warnings collects what a Session reports through Warn.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) add(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func (w *warnings) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.msgs)
}

// env is one test's world: a clock, a store, a lock directory and, when
// asked for, a provider.
type env struct {
	t     *testing.T
	clk   *fakeClock
	st    *memStore
	lock  string
	warns *warnings
	idp   *testidp.IdP
	hc    *http.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return &env{t: t, clk: newClock(), st: newMemStore(), lock: t.TempDir(), warns: &warnings{}, hc: &http.Client{Timeout: httpTimeout}}
}

// withIdP starts an in-process provider on the env's clock; ES256 unless
// asked otherwise, since its keys are quick to make.
func (e *env) withIdP(o testidp.Options) *env {
	o.Now = e.clk.Now
	if o.Alg == "" {
		o.Alg = "ES256"
	}
	e.idp = testidp.New(e.t, o)
	return e
}

// session is one sesame process's view of profile "p": its own Session
// on the shared store and lock directory.
func (e *env) session() *Session {
	return &Session{
		Profile: "p", Store: e.st, HTTP: e.hc, Now: e.clk.Now,
		LockDir: e.lock, LockTimeout: 5 * time.Second, Warn: e.warns.add,
	}
}

// endpoints are the provider's, from discovery.
func (e *env) endpoints() provider.Endpoints {
	e.t.Helper()
	ep, err := provider.Resolve(context.Background(), e.hc, provider.Endpoints{Issuer: e.idp.Issuer})
	if err != nil {
		e.t.Fatalf("discovery: %v", err)
	}
	return ep
}

// login runs an approved login at the provider (authorization code with
// PKCE, exchange, ID token verification) and stores it as sesame login does.
func (e *env) login(scope string, resources ...string) *Tokens {
	e.t.Helper()
	ctx := context.Background()
	ep := e.endpoints()
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	const redirect = "http://127.0.0.1:49152/callback"
	q := url.Values{
		"response_type": {"code"}, "client_id": {e.idp.ClientID()}, "redirect_uri": {redirect},
		"scope": {scope}, "state": {"state-1"}, "nonce": {"nonce-1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	if len(resources) > 0 {
		q["resource"] = resources
	}
	next, err := e.idp.Authorize(ep.Auth+"?"+q.Encode(), testidp.Approve)
	if err != nil {
		e.t.Fatalf("authorize: %v", err)
	}
	u, _ := url.Parse(next)
	c := grant.Client{ClientID: e.idp.ClientID(), TokenURL: ep.Token, HTTP: e.hc, Now: e.clk.Now}
	got, err := c.Exchange(ctx, u.Query().Get("code"), verifier, redirect, nil)
	if err != nil {
		e.t.Fatalf("exchange: %v", err)
	}
	tok := &Tokens{
		ClientID: e.idp.ClientID(), Endpoints: ep, AccessToken: got.AccessToken, TokenType: got.TokenType,
		RefreshToken: got.RefreshToken, Expiry: got.Expiry, ObtainedAt: e.clk.Now(), Scope: got.Scope,
	}
	if got.IDToken != "" {
		id, err := provider.VerifyIDToken(ctx, e.hc, ep, e.idp.ClientID(), got.IDToken, "nonce-1", e.clk.Now)
		if err != nil {
			e.t.Fatalf("login ID token: %v", err)
		}
		tok.IDToken, tok.Identity = got.IDToken, id
	}
	if err := e.session().SaveLogin(ctx, tok); err != nil {
		e.t.Fatalf("SaveLogin: %v", err)
	}
	return e.stored()
}

// put stores t as the login, Derived list included, as a refresh would.
func (e *env) put(t *Tokens) {
	e.t.Helper()
	if err := e.session().save(t); err != nil {
		e.t.Fatalf("save: %v", err)
	}
}

// stored decodes what the store holds for the login.
func (e *env) stored() *Tokens {
	e.t.Helper()
	t, err := e.session().Load()
	if err != nil {
		e.t.Fatalf("Load: %v", err)
	}
	return t
}

// idToken signs an ID token for the test user at the provider, with edits.
func (e *env) idToken(edit func(c map[string]any)) string {
	c := e.idp.Claims()
	if edit != nil {
		edit(c)
	}
	return e.idp.SignIDToken(c)
}

// identity verifies raw as login does and returns what is kept of it.
func (e *env) identity(raw string) *provider.Identity {
	e.t.Helper()
	ep := provider.Endpoints{Issuer: e.idp.Issuer, JWKS: e.idp.Endpoint("/jwks")}
	id, err := provider.VerifyIDToken(context.Background(), e.hc, ep, e.idp.ClientID(), raw, "", e.clk.Now)
	if err != nil {
		e.t.Fatalf("verify: %v", err)
	}
	return id
}

// tokenEndpoint is a canned token (or revocation) endpoint: it records each
// form and answers with respond's status and JSON body.
type tokenEndpoint struct {
	URL     string
	mu      sync.Mutex
	forms   []url.Values
	respond func(form url.Values) (int, any)
}

func newTokenEndpoint(t *testing.T, respond func(form url.Values) (int, any)) *tokenEndpoint {
	t.Helper()
	te := &tokenEndpoint{respond: respond}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		te.mu.Lock()
		te.forms = append(te.forms, r.PostForm)
		respond := te.respond
		te.mu.Unlock()
		status, body := respond(r.PostForm)
		if s, ok := body.(string); ok { // a raw body, such as an HTML error page
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			w.Write([]byte(s))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	te.URL = srv.URL
	return te
}

func (te *tokenEndpoint) calls() []url.Values {
	te.mu.Lock()
	defer te.mu.Unlock()
	return slices.Clone(te.forms)
}

// deadURL is an address where nothing listens.
func deadURL(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

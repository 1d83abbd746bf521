package broker

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Known values pushed through the broker; none may ever reach a log.
const (
	testClientID     = "cli:ent/1" // needs form-encoding in Basic credentials
	testSecret       = "s3cr3t+/=:%value"
	testCode         = "CODE-6f1c0a9b-secret-code"
	testVerifier     = "VERIFIER-abcdefghijklmnopqrstuvwxyz-0123456789"
	testRefresh      = "REFRESH-TOKEN-7d9e0b"
	testAccess       = "ACCESS-TOKEN-5a4b3c"
	testIDToken      = "ID-TOKEN-eyJhbGciOi"
	testCallerSecret = "CALLER-SECRET-should-not-exist"
	testRedirect     = "http://127.0.0.1:53682/callback"
)

// testHTTP is the client of tests that speak HTTP to a broker or a fake
// provider: a listener that accepts and never answers fails the test in
// seconds, not at go test's timeout.
var testHTTP = &http.Client{Timeout: 30 * time.Second}

// seen is one request the fake provider received.
type seen struct {
	path   string
	header http.Header
	form   url.Values
}

// fakeIdP is a provider that records what it receives and answers with a
// canned reply: enough to check exactly what the broker forwards.
type fakeIdP struct {
	srv *httptest.Server

	mu             sync.Mutex
	got            []seen
	status         int
	header         http.Header
	body           string
	delay          time.Duration
	discoveryFails bool
	noRevocation   bool
}

func newFakeIdP(t testing.TB) *fakeIdP {
	t.Helper()
	f := &fakeIdP{status: 200, body: tokenJSON()}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func tokenJSON() string {
	return `{"access_token":"` + testAccess + `","token_type":"Bearer","expires_in":3600,"refresh_token":"` +
		testRefresh + `","id_token":"` + testIDToken + `"}`
}

func (f *fakeIdP) issuer() string { return f.srv.URL }

// reply sets what token, revocation and introspection requests get.
func (f *fakeIdP) reply(status int, header http.Header, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.header, f.body = status, header, body
}

func (f *fakeIdP) set(fn func(*fakeIdP)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeIdP) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.got...)
}

func (f *fakeIdP) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	status, header, body, delay := f.status, f.header, f.body, f.delay
	fails, noRevocation := f.discoveryFails, f.noRevocation
	f.mu.Unlock()
	if r.URL.Path == "/.well-known/openid-configuration" {
		if fails {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		doc := `{"issuer":"` + f.srv.URL + `","authorization_endpoint":"` + f.srv.URL + `/auth","token_endpoint":"` +
			f.srv.URL + `/token","introspection_endpoint":"` + f.srv.URL + `/introspect","pushed_authorization_request_endpoint":"` +
			f.srv.URL + `/par"`
		if !noRevocation {
			doc += `,"revocation_endpoint":"` + f.srv.URL + `/revoke"`
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, doc+"}")
		return
	}
	raw, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(raw))
	f.mu.Lock()
	f.got = append(f.got, seen{path: r.URL.Path, header: r.Header.Clone(), form: form})
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if header == nil {
		header = http.Header{"Content-Type": {"application/json;charset=UTF-8"}, "Cache-Control": {"no-store"}, "Pragma": {"no-cache"}}
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// testBroker is a broker in front of a fake provider, logging to a buffer
// at debug level.
type testBroker struct {
	b    *Broker
	srv  *httptest.Server
	idp  *fakeIdP
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testConfig(idp *fakeIdP) Config {
	cfg := Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.RateLimit = 0
	cfg.UpstreamTimeout = 2 * time.Second
	cfg.Clients = []Client{{ID: testClientID, Issuer: idp.issuer(), Secret: testSecret}}
	return cfg
}

func newTestBroker(t testing.TB, mutate func(*Config, *fakeIdP)) *testBroker {
	t.Helper()
	return newTestBrokerFormat(t, mutate, "json")
}

func newTestBrokerFormat(t testing.TB, mutate func(*Config, *fakeIdP), format string) *testBroker {
	t.Helper()
	idp := newFakeIdP(t)
	cfg := testConfig(idp)
	if mutate != nil {
		mutate(&cfg, idp)
	}
	logs := &syncBuffer{}
	log, err := NewLogger(logs, format, "debug")
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(cfg, Options{Logger: log})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	_ = b.Discover(context.Background())
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return &testBroker{b: b, srv: srv, idp: idp, logs: logs}
}

// post sends a form to path with extra headers, "Content-Type" defaulting
// to a form.
func (tb *testBroker) post(t testing.TB, path, body string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, tb.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func authCodeForm() url.Values {
	return url.Values{
		"grant_type": {GrantAuthorizationCode}, "client_id": {testClientID}, "code": {testCode},
		"code_verifier": {testVerifier}, "redirect_uri": {testRedirect},
	}
}

func refreshForm() url.Values {
	return url.Values{"grant_type": {GrantRefreshToken}, "client_id": {testClientID}, "refresh_token": {testRefresh}}
}

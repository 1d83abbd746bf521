package dpop

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// hit is one request as the server saw it.
type hit struct {
	Method, Path, Proof, Body, Auth string
}

// server is a token endpoint or resource server that answers each
// request with respond, given how many came before it.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	hits []hit
}

func newServer(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.hits)
		s.hits = append(s.hits, hit{r.Method, r.URL.Path, r.Header.Get("DPoP"), string(body), r.Header.Get("Authorization")})
		s.mu.Unlock()
		respond(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) got() []hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hit(nil), s.hits...)
}

// challenge400 is a token endpoint's nonce challenge (RFC 9449 §8).
func challenge400(w http.ResponseWriter, nonce string) {
	w.Header().Set("DPoP-Nonce", nonce)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	io.WriteString(w, `{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}`)
}

// challenge401 is a resource server's nonce challenge (RFC 9449 §9).
func challenge401(w http.ResponseWriter, nonce string) {
	w.Header().Set("DPoP-Nonce", nonce)
	w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
	w.WriteHeader(http.StatusUnauthorized)
}

func newTransport(t *testing.T, alg string) *Transport {
	k, err := Generate(alg)
	if err != nil {
		t.Fatal(err)
	}
	return &Transport{Key: k, Now: func() time.Time { return time.Unix(1700000000, 0) }}
}

func do(t *testing.T, tr *Transport, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// The token endpoint's challenge: the request goes again, once, with the
// nonce, a new jti and the same body; and the latest nonce serves the
// next request.
func TestTransportTokenEndpointChallenge(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 0:
			challenge400(w, "n-1")
		default:
			w.Header().Set("DPoP-Nonce", "n-2")
			io.WriteString(w, `{"access_token":"at","token_type":"DPoP"}`)
		}
	})
	tr := newTransport(t, ES256)
	form := "grant_type=authorization_code&code=c"
	resp, body := do(t, tr, newRequest(t, "POST", srv.URL+"/token?q=1", strings.NewReader(form)))
	if resp.StatusCode != 200 || body != `{"access_token":"at","token_type":"DPoP"}` {
		t.Fatalf("answer %d %s", resp.StatusCode, body)
	}
	hits := srv.got()
	if len(hits) != 2 {
		t.Fatalf("%d requests, want 2", len(hits))
	}
	first, second := verify(t, tr.Key, hits[0].Proof).Claims, verify(t, tr.Key, hits[1].Proof).Claims
	for _, c := range []map[string]any{first, second} {
		if c["htm"] != "POST" || c["htu"] != srv.URL+"/token" || c["iat"] != 1700000000.0 || c["ath"] != nil {
			t.Errorf("claims %v", c)
		}
	}
	if first["nonce"] != nil || second["nonce"] != "n-1" || first["jti"] == second["jti"] {
		t.Errorf("first proof %v, second %v", first, second)
	}
	if hits[0].Body != form || hits[1].Body != form {
		t.Errorf("bodies %q, %q", hits[0].Body, hits[1].Body)
	}

	do(t, tr, newRequest(t, "POST", srv.URL+"/other", nil))
	if c := verify(t, tr.Key, srv.got()[2].Proof).Claims; c["nonce"] != "n-2" || c["htu"] != srv.URL+"/other" {
		t.Errorf("the next request's proof %v, want the latest nonce n-2", c)
	}
}

// A resource server's challenge is a 401 with WWW-Authenticate; the proof
// binds the access token each time.
func TestTransportResourceChallenge(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			challenge401(w, "rs-1")
			return
		}
		io.WriteString(w, "resource")
	})
	tr := newTransport(t, EdDSA)
	req := newRequest(t, "GET", srv.URL+"/protectedresource", nil)
	req.Header.Set("Authorization", "DPoP Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU")
	resp, body := do(t, tr, req)
	hits := srv.got()
	if resp.StatusCode != 200 || body != "resource" || len(hits) != 2 {
		t.Fatalf("answer %d %q after %d requests", resp.StatusCode, body, len(hits))
	}
	first, second := verify(t, tr.Key, hits[0].Proof).Claims, verify(t, tr.Key, hits[1].Proof).Claims
	for _, c := range []map[string]any{first, second} {
		if c["ath"] != "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo" || c["htm"] != "GET" {
			t.Errorf("claims %v", c)
		}
	}
	if first["nonce"] != nil || second["nonce"] != "rs-1" || first["jti"] == second["jti"] {
		t.Errorf("first proof %v, second %v", first, second)
	}
	if hits[1].Auth != req.Header.Get("Authorization") {
		t.Errorf("Authorization %q", hits[1].Auth)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The caller's request stays as it was, also through a retry.
func TestTransportLeavesRequestAlone(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			challenge401(w, "n-1")
		}
	})
	tr := newTransport(t, ES256)
	req := newRequest(t, "PUT", srv.URL+"/r", strings.NewReader("a=b"))
	req.Header.Set("Authorization", "dpop tok")
	header, url := req.Header.Clone(), *req.URL
	do(t, tr, req)
	if !reflect.DeepEqual(req.Header, header) || *req.URL != url || req.Method != "PUT" {
		t.Errorf("the request changed: %v %v", req.Header, req.URL)
	}
	if n := len(srv.got()); n != 2 {
		t.Errorf("%d requests", n)
	}
}

func TestTransportATH(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {})
	tr := newTransport(t, ES256)
	for _, c := range []struct{ auth, ath string }{
		{"DPoP tok-1", ATH("tok-1")},
		{"dPoP   tok-2", ATH("tok-2")},
		{"Bearer tok-3", ""},
		{"DPoPtok-4", ""},
		{"", ""},
	} {
		req := newRequest(t, "GET", srv.URL+"/r", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		do(t, tr, req)
		hits := srv.got()
		got, _ := verify(t, tr.Key, hits[len(hits)-1].Proof).Claims["ath"].(string)
		if got != c.ath {
			t.Errorf("Authorization %q: ath %q, want %q", c.auth, got, c.ath)
		}
	}
}

// A 400 that is not a challenge comes back whole, however long, and is
// not retried even with a new nonce.
func TestTransportOther400(t *testing.T) {
	long := `{"error":"invalid_grant","error_description":"` + strings.Repeat("x", 100<<10) + `"}`
	for _, body := range []string{`{"error":"invalid_grant"}`, long, "not json"} {
		srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("DPoP-Nonce", "n-1")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, body)
		})
		tr := newTransport(t, ES256)
		resp, got := do(t, tr, newRequest(t, "POST", srv.URL+"/token", strings.NewReader("a=b")))
		if resp.StatusCode != 400 || got != body || len(srv.got()) != 1 {
			t.Errorf("answer %d, %d bytes of %d, after %d requests", resp.StatusCode, len(got), len(body), len(srv.got()))
		}
	}
}

func TestTransportErrors(t *testing.T) {
	closed := &closeRecorder{Reader: strings.NewReader("a=b")}
	req := newRequest(t, "POST", "https://rs.example/r", closed)
	if _, err := (&Transport{}).RoundTrip(req); err == nil || !closed.closed {
		t.Errorf("no key: err %v, body closed %v", err, closed.closed)
	}
	tr := newTransport(t, ES256)
	tr.HTU = func(*http.Request) (string, error) { return "ftp://provider.example/", nil }
	if _, err := tr.RoundTrip(newRequest(t, "GET", "https://rs.example/r", nil)); err == nil {
		t.Error("an ftp htu was accepted")
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

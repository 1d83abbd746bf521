package verify_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/verify"
)

// serve runs r through Middleware in front of a handler that greets the
// subject.
func serve(v *verify.Verifier, opts verify.MiddlewareOptions, r *http.Request) *httptest.ResponseRecorder {
	h := verify.Middleware(v, opts)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := verify.FromContext(r.Context())
		if !ok {
			http.Error(w, "no claims", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("hello " + c.Subject))
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestMiddleware(t *testing.T) {
	b, v, clk, c := setup(t)
	now := clk.Now()
	tok := b.token(t, b.claims(now, c.jkt))
	bearer := b.token(t, b.claims(now, ""))
	proof := func() string { return c.proof(t, proofClaims("GET", apiURL, tok, now)) }
	twoAuth := request("GET", apiURL, "Bearer", bearer, "")
	twoAuth.Header.Add("Authorization", "Bearer "+bearer)
	const algs = `algs="ES256 EdDSA"`

	for name, tc := range map[string]struct {
		r         *http.Request
		status    int
		challenge []string // WWW-Authenticate, error_description cut
	}{
		"DPoP":   {request("GET", apiURL, "DPoP", tok, proof()), 200, nil},
		"Bearer": {request("GET", apiURL, "Bearer", bearer, ""), 200, nil},
		"no token": {request("GET", apiURL, "", "", ""), 401,
			[]string{`DPoP ` + algs, `Bearer`}},
		"bad DPoP token": {request("GET", apiURL, "DPoP", tamper(tok), proof()), 401,
			[]string{`DPoP error="invalid_token", ` + algs}},
		"bad Bearer token": {request("GET", apiURL, "Bearer", tamper(bearer), ""), 401,
			[]string{`Bearer error="invalid_token"`, `DPoP ` + algs}},
		"bound token as Bearer": {request("GET", apiURL, "Bearer", tok, ""), 401,
			[]string{`DPoP error="invalid_token", ` + algs}},
		"bad proof": {request("POST", apiURL, "DPoP", tok, proof()), 401,
			[]string{`DPoP error="invalid_dpop_proof", ` + algs}},
		"two Authorization headers": {twoAuth, 400,
			[]string{`DPoP error="invalid_request", ` + algs, `Bearer error="invalid_request"`}},
	} {
		t.Run(name, func(t *testing.T) {
			var logged int
			w := serve(v, verify.MiddlewareOptions{OnError: func(r *http.Request, status int, err error) { logged = status }}, tc.r)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.status == 200 {
				if w.Body.String() != "hello alice" {
					t.Errorf("body %q", w.Body)
				}
				return
			}
			if logged != tc.status {
				t.Errorf("OnError was told %d", logged)
			}
			got := w.Header().Values("WWW-Authenticate")
			var cut []string
			for _, h := range got {
				if i := strings.Index(h, `error_description="`); i >= 0 {
					j := strings.Index(h[i+19:], `"`)
					desc := h[i+19 : i+19+j]
					if desc == "" || strings.ContainsAny(desc, "\\§") {
						t.Errorf("error_description %q", desc)
					}
					h = h[:i] + strings.TrimPrefix(h[i+19+j+1:], ", ")
					h = strings.TrimSuffix(h, ", ")
				}
				cut = append(cut, h)
			}
			if !reflect.DeepEqual(cut, tc.challenge) {
				t.Errorf("WWW-Authenticate %q,\nwant (without error_description) %q", got, tc.challenge)
			}
			noSecrets(t, strings.Join(got, "\n")+w.Body.String(), tok, bearer, tc.r.Header.Get("DPoP"))
		})
	}
}

// With RequireActive, an ended session is refused as an invalid token,
// and a check that cannot be made as unavailable: 503, never the handler.
func TestMiddlewareRequireActive(t *testing.T) {
	b, v, clk, c := setup(t)
	tok := b.token(t, b.claims(clk.Now(), c.jkt))
	send := func() *httptest.ResponseRecorder {
		r := request("GET", apiURL, "DPoP", tok, c.proof(t, proofClaims("GET", apiURL, tok, clk.Now())))
		return serve(v, verify.MiddlewareOptions{RequireActive: true}, r)
	}
	if w := send(); w.Code != 200 || b.introHits.Load() != 1 {
		t.Fatalf("active: %d %s, %d checks", w.Code, w.Body, b.introHits.Load())
	}

	b.set(func(b *broker) {
		b.introspect = func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"active":false}`)) }
	})
	w := send()
	if w.Code != 401 || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token", error_description="the session has ended`) {
		t.Errorf("inactive: %d %q", w.Code, w.Header().Values("WWW-Authenticate"))
	}

	b.set(func(b *broker) {
		b.introspect = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "db down", http.StatusInternalServerError) }
	})
	w = send()
	if w.Code != 503 || w.Header().Get("WWW-Authenticate") != "" || w.Header().Get("Retry-After") == "" {
		t.Errorf("check failed: %d %q", w.Code, w.Header())
	}
	noSecrets(t, w.Body.String(), tok)
}

// When the broker's keys cannot be had, requests are refused with 503.
func TestMiddlewareBrokerDown(t *testing.T) {
	b, v, clk, c := setup(t)
	tok := b.token(t, b.claims(clk.Now(), c.jkt))
	b.set(func(b *broker) {
		b.jwks = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) }
	})
	var logged error
	r := request("GET", apiURL, "DPoP", tok, c.proof(t, proofClaims("GET", apiURL, tok, clk.Now())))
	w := serve(v, verify.MiddlewareOptions{OnError: func(r *http.Request, status int, err error) { logged = err }}, r)
	if w.Code != 503 || !errors.Is(logged, verify.ErrUnavailable) || strings.Contains(w.Body.String(), b.URL) {
		t.Errorf("%d %q, logged %v", w.Code, w.Body, logged)
	}
}

func TestFromContext(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if _, ok := verify.FromContext(r.Context()); ok {
		t.Error("claims in an empty context")
	}
	ctx := verify.NewContext(r.Context(), &verify.Claims{Subject: "bob"})
	if c, ok := verify.FromContext(ctx); !ok || c.Subject != "bob" {
		t.Errorf("got %v %v", c, ok)
	}
}

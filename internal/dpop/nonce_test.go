package dpop

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A nonce that is not 1*NQCHAR, or too long, is neither answered nor
// sent back. net/http refuses control characters in headers, so the
// answers come from a fake transport.
func TestTransportHostileNonces(t *testing.T) {
	for _, nonce := range []string{"a\x01b", "a\r\nb", `a"b`, "a b", `a\b`, "caf\u00e9", strings.Repeat("n", 10<<10)} {
		var proofs []string
		tr := newTransport(t, ES256)
		tr.Base = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			proofs = append(proofs, r.Header.Get("DPoP"))
			rec := httptest.NewRecorder()
			challenge400(rec, "x")
			resp := rec.Result()
			resp.Header["Dpop-Nonce"] = []string{nonce}
			return resp, nil
		})
		resp, body := do(t, tr, newRequest(t, "POST", "https://as.example/token", strings.NewReader("a=b")))
		do(t, tr, newRequest(t, "POST", "https://as.example/token", strings.NewReader("a=b")))
		if resp.StatusCode != 400 || !strings.Contains(body, "use_dpop_nonce") || len(proofs) != 2 {
			t.Errorf("nonce %.20q: answer %d after %d requests", nonce, resp.StatusCode, len(proofs))
			continue
		}
		for _, p := range proofs {
			if c := verify(t, tr.Key, p).Claims; c["nonce"] != nil {
				t.Errorf("nonce %.20q was sent: %v", nonce, c)
			}
		}
	}
}

// A challenge with the nonce just sent, or none, gets no retry.
func TestTransportNoRetryWithoutNewNonce(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 0:
			w.Header().Set("DPoP-Nonce", "n-1")
		case 1:
			challenge400(w, "n-1")
		case 2:
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	tr := newTransport(t, ES256)
	for i, want := range []int{200, 400, 401} {
		if resp, _ := do(t, tr, newRequest(t, "GET", srv.URL+"/r", nil)); resp.StatusCode != want {
			t.Errorf("request %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	if n := len(srv.got()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// A nonce belongs to its server's origin.
func TestTransportNoncePerOrigin(t *testing.T) {
	a := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) { w.Header().Set("DPoP-Nonce", "from-a") })
	b := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {})
	tr := newTransport(t, ES256)
	do(t, tr, newRequest(t, "GET", a.URL+"/one", nil))
	do(t, tr, newRequest(t, "GET", b.URL+"/one", nil))
	do(t, tr, newRequest(t, "GET", a.URL+"/two?x=y", nil))
	if c := verify(t, tr.Key, b.got()[0].Proof).Claims; c["nonce"] != nil {
		t.Errorf("the other origin got %v", c)
	}
	if c := verify(t, tr.Key, a.got()[1].Proof).Claims; c["nonce"] != "from-a" {
		t.Errorf("the same origin got %v", c)
	}
}

// Through sesame-broker the proof names the provider's endpoint, and the
// provider's nonce goes with that name.
func TestTransportHTUOverride(t *testing.T) {
	broker := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			challenge400(w, "p-1")
		}
	})
	tr := newTransport(t, EdDSA)
	tr.HTU = func(*http.Request) (string, error) { return "HTTPS://Provider.example:443/oauth/token?x=1", nil }
	resp, _ := do(t, tr, newRequest(t, "POST", broker.URL+"/token", strings.NewReader("a=b")))
	hits := broker.got()
	if resp.StatusCode != 200 || len(hits) != 2 {
		t.Fatalf("answer %d after %d requests", resp.StatusCode, len(hits))
	}
	if c := verify(t, tr.Key, hits[1].Proof).Claims; c["htu"] != "https://provider.example/oauth/token" || c["nonce"] != "p-1" {
		t.Errorf("claims %v", c)
	}
	if tr.nonce("https://provider.example") != "p-1" || tr.nonce(broker.URL) != "" {
		t.Errorf("nonces %v", tr.nonces)
	}
}

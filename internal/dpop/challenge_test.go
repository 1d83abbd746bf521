package dpop

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestIsNonceChallenge(t *testing.T) {
	for _, c := range []struct {
		status int
		auth   []string
		body   string
		want   bool
	}{
		{401, []string{`DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`}, "", true},
		{401, []string{`dpop ERROR=use_dpop_nonce`}, "", true},
		{401, []string{`Bearer realm="api", DPoP algs="ES256 EdDSA", error="use_dpop_nonce"`}, "", true},
		{401, []string{`Bearer realm="a,b=\"c\"", error="x"`, `DPoP error="use_dpop_nonce"`}, "", true},
		{401, []string{`Basic dXNlcjpwYXNz==, DPoP error = "use_dpop_nonce"`}, "", true},
		{401, []string{`DPoP error="invalid_token"`}, "", false},
		{401, []string{`Bearer error="use_dpop_nonce"`}, "", false},
		{401, []string{`Bearer error_description="DPoP error=use_dpop_nonce"`}, "", false},
		{401, []string{`DPoP error="use_dpop_nonce`}, "", true}, // unterminated, still clear
		{401, []string{`DPoP error="use_dpop_nonce2"`}, "", false},
		{401, []string{`=,=,"DPoP",,`, `DPoP`}, "", false},
		{401, nil, `{"error":"use_dpop_nonce"}`, false},
		{403, []string{`DPoP error="use_dpop_nonce"`}, "", false},
		{400, nil, `{"error":"use_dpop_nonce"}`, true},
		{400, nil, `{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}`, true},
		{400, nil, `{"error":"invalid_dpop_proof"}`, false},
		{400, nil, `{"error":"use_dpop_nonce"`, false},
		{400, nil, `{"error":"use_dpop_nonce"}` + strings.Repeat(" ", 64<<10), false},
		{400, nil, "", false},
		{500, nil, `{"error":"use_dpop_nonce"}`, false},
	} {
		resp := &http.Response{StatusCode: c.status, Header: http.Header{"Www-Authenticate": c.auth}, Body: io.NopCloser(strings.NewReader(c.body))}
		if got := IsNonceChallenge(resp); got != c.want {
			t.Errorf("%d %q %.40q: %v, want %v", c.status, c.auth, c.body, got, c.want)
		}
		if b, _ := io.ReadAll(resp.Body); string(b) != c.body {
			t.Errorf("%d %.40q: the body reads %.40q after", c.status, c.body, b)
		}
	}
	if IsNonceChallenge(&http.Response{StatusCode: 400}) {
		t.Error("a 400 without a body")
	}
}

// A server that keeps challenging gets one retry, and its last answer
// comes back whole.
func TestTransportRetriesOnce(t *testing.T) {
	for name, challenge := range map[string]func(http.ResponseWriter, string){"400": challenge400, "401": challenge401} {
		srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
			challenge(w, "again-"+string(rune('a'+n)))
		})
		tr := newTransport(t, ES256)
		resp, body := do(t, tr, newRequest(t, "POST", srv.URL+"/token", strings.NewReader("a=b")))
		if n := len(srv.got()); n != 2 {
			t.Errorf("%s: %d requests, want 2", name, n)
		}
		if name == "400" && !strings.Contains(body, "use_dpop_nonce") || resp.Header.Get("DPoP-Nonce") != "again-b" {
			t.Errorf("%s: answer %d %q", name, resp.StatusCode, body)
		}
	}
}

// A body that cannot be read twice is not sent twice: the challenge is
// the answer, its body intact.
func TestTransportNoRetryWithoutGetBody(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) { challenge400(w, "n-1") })
	tr := newTransport(t, ES256)
	req := newRequest(t, "POST", srv.URL+"/token", io.NopCloser(strings.NewReader("a=b")))
	if req.GetBody != nil {
		t.Fatal("the request can replay its body")
	}
	resp, body := do(t, tr, req)
	if n := len(srv.got()); n != 1 || resp.StatusCode != 400 || !strings.HasPrefix(body, `{"error":"use_dpop_nonce"`) {
		t.Errorf("%d requests, answer %d %q", n, resp.StatusCode, body)
	}
	// The nonce is kept all the same.
	do(t, tr, newRequest(t, "GET", srv.URL+"/token", nil))
	if c := verify(t, tr.Key, srv.got()[1].Proof).Claims; c["nonce"] != "n-1" {
		t.Errorf("next proof %v", c)
	}
}

// The retry sends the body again from GetBody, and the challenge's body
// is closed, not leaked.
func TestTransportRetryBodies(t *testing.T) {
	var bodies []string
	first := &closeRecorder{Reader: strings.NewReader(`{"error":"use_dpop_nonce"}`)}
	tr := newTransport(t, ES256)
	tr.Base = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		if len(bodies) == 1 {
			return &http.Response{StatusCode: 400, Header: http.Header{"Dpop-Nonce": {"n-1"}}, Body: first}, nil
		}
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})
	resp, _ := do(t, tr, newRequest(t, "POST", "https://as.example/token", strings.NewReader("a=b")))
	if resp.StatusCode != 200 || len(bodies) != 2 || bodies[0] != "a=b" || bodies[1] != "a=b" || !first.closed {
		t.Errorf("answer %d, bodies sent %q, challenge closed %v", resp.StatusCode, bodies, first.closed)
	}
}

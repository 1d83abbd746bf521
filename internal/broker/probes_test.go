package broker

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := testHTTP.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, readBody(t, resp), resp.Header
}

func TestHealthz(t *testing.T) {
	tb := newTestBroker(t, func(_ *Config, idp *fakeIdP) { idp.discoveryFails = true })
	if status, body, _ := get(t, tb.srv.URL+"/healthz"); status != 200 || !strings.Contains(body, "ok") {
		t.Errorf("healthz = %d %s; it must not depend on providers", status, body)
	}
	resp := tb.post(t, "/healthz", "")
	checkOAuthError(t, resp, http.StatusMethodNotAllowed, "invalid_request")
}

// TestReadyzFollowsDiscovery starts with the provider's discovery failing,
// then lets it recover: /readyz and /token follow, and a later failure
// keeps the last good endpoints.
func TestReadyzFollowsDiscovery(t *testing.T) {
	tb := newTestBroker(t, func(cfg *Config, idp *fakeIdP) {
		idp.discoveryFails = true
		cfg.Clients = append(cfg.Clients, Client{ID: "explicit", TokenURL: idp.issuer() + "/token", Secret: "x"})
	})
	status, body, _ := get(t, tb.srv.URL+"/readyz")
	var doc struct {
		Status  string   `json:"status"`
		Issuers []string `json:"failing_issuers"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("readyz body %q: %v", body, err)
	}
	if status != 503 || len(doc.Issuers) != 1 || doc.Issuers[0] != tb.idp.issuer() {
		t.Fatalf("readyz = %d %s, want 503 naming %s", status, body, tb.idp.issuer())
	}
	resp := tb.post(t, "/token", refreshForm().Encode())
	checkOAuthError(t, resp, http.StatusServiceUnavailable, "temporarily_unavailable")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	// A client with explicit endpoints works meanwhile.
	resp = tb.post(t, "/token", set(refreshForm(), "client_id", "explicit"))
	if readBody(t, resp); resp.StatusCode != 200 {
		t.Errorf("explicit client: %d, want 200", resp.StatusCode)
	}

	tb.idp.set(func(f *fakeIdP) { f.discoveryFails = false })
	tb.b.dir.refresh(context.Background())
	if status, body, _ := get(t, tb.srv.URL+"/readyz"); status != 200 {
		t.Fatalf("after recovery readyz = %d %s", status, body)
	}
	resp = tb.post(t, "/token", refreshForm().Encode())
	if readBody(t, resp); resp.StatusCode != 200 {
		t.Errorf("after recovery /token = %d", resp.StatusCode)
	}

	tb.idp.set(func(f *fakeIdP) { f.discoveryFails = true })
	tb.b.dir.refresh(context.Background())
	if status, _, _ := get(t, tb.srv.URL+"/readyz"); status != 200 {
		t.Errorf("a failed refresh after a good one: readyz = %d, want 200 with the last good endpoints", status)
	}
	if !strings.Contains(tb.logs.String(), "discovery failed") || !strings.Contains(tb.logs.String(), "discovery recovered") {
		t.Errorf("discovery failures and recovery are not logged:\n%s", tb.logs)
	}
}

func TestMetrics(t *testing.T) {
	tb := newTestBroker(t, nil)
	readBody(t, tb.post(t, "/token", refreshForm().Encode()))
	readBody(t, tb.post(t, "/token", refreshForm().Encode()))
	readBody(t, tb.post(t, "/token", authCodeForm().Encode()))
	readBody(t, tb.post(t, "/token", set(refreshForm(), "client_id", "nobody")))
	tb.idp.reply(400, nil, `{"error":"invalid_grant"}`)
	readBody(t, tb.post(t, "/token", refreshForm().Encode()))
	readBody(t, tb.post(t, "/revoke", "client_id="+testClientID+"&token=x"))

	status, body, header := get(t, tb.srv.URL+"/metrics")
	if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("metrics = %d %s", status, header.Get("Content-Type"))
	}
	for _, want := range []string{
		`sesame_broker_requests_total{endpoint="token",grant_type="refresh_token",outcome="ok"} 2`,
		`sesame_broker_requests_total{endpoint="token",grant_type="authorization_code",outcome="ok"} 1`,
		`sesame_broker_requests_total{endpoint="token",grant_type="",outcome="refused"} 1`,
		`sesame_broker_requests_total{endpoint="token",grant_type="refresh_token",outcome="provider_error"} 1`,
		`sesame_broker_requests_total{endpoint="revoke",grant_type="",outcome="provider_error"} 1`,
		`sesame_broker_upstream_duration_seconds_bucket{endpoint="token",le="+Inf"} 4`,
		`sesame_broker_upstream_duration_seconds_count{endpoint="token"} 4`,
		`sesame_broker_upstream_duration_seconds_bucket{endpoint="token",le="0.005"}`,
		"# TYPE sesame_broker_upstream_duration_seconds histogram",
		"sesame_broker_in_flight 0",
		"sesame_broker_rate_limited_total 0",
	} {
		if !strings.Contains(body, want+"\n") && !strings.Contains(body, want+" ") {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func TestMetricsOnTheirOwnListener(t *testing.T) {
	tb := newTestBroker(t, func(cfg *Config, _ *fakeIdP) { cfg.MetricsListen = "127.0.0.1:0" })
	if status, _, _ := get(t, tb.srv.URL+"/metrics"); status != 404 {
		t.Errorf("/metrics on the API listener = %d, want 404 with metrics_listen set", status)
	}
}

// TestMetricsListener: the metrics listener serves /metrics alone, and
// refuses the rest as the API does, in RFC 6749 error JSON.
func TestMetricsListener(t *testing.T) {
	tb := newTestBroker(t, func(cfg *Config, _ *fakeIdP) { cfg.MetricsListen = "127.0.0.1:0" })
	srv := httptest.NewServer(tb.b.MetricsHandler())
	t.Cleanup(srv.Close)
	if status, body, _ := get(t, srv.URL+"/metrics"); status != 200 || !strings.Contains(body, "sesame_broker_in_flight 0\n") {
		t.Errorf("/metrics = %d\n%s", status, body)
	}
	resp, err := testHTTP.Post(srv.URL+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	checkOAuthError(t, resp, http.StatusMethodNotAllowed, "invalid_request")
	if allow := resp.Header.Get("Allow"); allow != "GET, HEAD" {
		t.Errorf("Allow = %q", allow)
	}
	for _, path := range []string{"/", "/token", "//metrics", "/x/../metrics", "/metrics/"} {
		resp, err := testHTTP.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		checkOAuthError(t, resp, http.StatusNotFound, "invalid_request")
	}
}

func TestHistogramBuckets(t *testing.T) {
	m := newMetrics()
	for _, ms := range []int{1, 5, 7, 3000, 60000} {
		m.observeUpstream(epToken, msDuration(ms))
	}
	rec := httptest.NewRecorder()
	m.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	b := rec.Body
	for _, want := range []string{
		`le="0.005"} 2`, `le="0.01"} 3`, `le="2.5"} 3`, `le="5"} 4`, `le="30"} 4`, `le="+Inf"} 5`,
		`sesame_broker_upstream_duration_seconds_sum{endpoint="token"} 63.013`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("histogram lacks %q:\n%s", want, b.String())
		}
	}
}

package loopback

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestForeignHostRefused: a request that names any host but the listener's
// own 127.0.0.1:PORT is what a DNS-rebinding web page sends, so it gets 421
// and nothing else happens: even a callback with this login's state and a
// code is not accepted, not counted as a wrong state, and a GET of the
// start path neither redirects nor uses the start URL up.
func TestForeignHostRefused(t *testing.T) {
	var mu sync.Mutex
	var warnings []string
	s := start(t, Options{Warn: func(m string) { mu.Lock(); warnings = append(warnings, m); mu.Unlock() }})
	startURL, err := s.Start("https://idp.example/auth?state=the-state")
	if err != nil {
		t.Fatal(err)
	}
	startPath := startURL[len("http://"+s.host):]
	_, port, _ := net.SplitHostPort(s.host)
	p, _ := strconv.Atoi(port)
	other := strconv.Itoa(p%60000 + 1024)
	callback := CallbackPath + "?" + url.Values{"code": {"the-code"}, "state": {"the-state"}}.Encode()
	hosts := []string{
		"evil.example:" + port, "localhost:" + port, "LOCALHOST:" + port, "127.0.0.1:" + other,
		"", "127.0.0.1", "[::1]:" + port, "127.0.0.1:" + port + ".evil.example", "127.1:" + port,
	}
	for _, host := range hosts {
		for _, target := range []string{callback, startPath, "/favicon.ico"} {
			req := httptest.NewRequest(http.MethodGet, target, nil)
			req.Host = host
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != http.StatusMisdirectedRequest || w.Header().Get("Location") != "" {
				t.Errorf("Host %q, %s: %d, Location %q", host, target, w.Code, w.Header().Get("Location"))
			}
		}
	}
	// Over the network too: the Host header, not the address dialled, counts.
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.host+callback, nil)
	req.Host = "evil.example:" + port
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("over the network: %d", resp.StatusCode)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if r, err := s.Wait(ctx); err != context.DeadlineExceeded {
		t.Fatalf("a foreign Host ended the wait: %+v %v", r, err)
	}
	if s.Refused() != 0 || s.Err() != nil {
		t.Errorf("refused %d, err %v: a foreign Host must change nothing", s.Refused(), s.Err())
	}
	mu.Lock()
	if len(warnings) != 1 {
		t.Errorf("warnings %q, want one", warnings)
	}
	mu.Unlock()
	// The start URL is still unused.
	if code, _, _ := fetch(t, startURL); code != http.StatusFound {
		t.Errorf("start URL after the foreign requests: %d", code)
	}
}

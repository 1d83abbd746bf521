package loopback

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func start(t *testing.T, o Options) *Server {
	t.Helper()
	if o.State == "" {
		o.State = "the-state"
	}
	s, err := Listen(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, s *Server, path string, q url.Values) (int, string) {
	t.Helper()
	u := "http://" + s.ln.Addr().String() + path
	if q != nil {
		u += "?" + q.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRedirectURIIsIPv4Loopback(t *testing.T) {
	s := start(t, Options{})
	u, err := url.Parse(s.RedirectURI())
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "0" || u.Path != "/callback" {
		t.Fatalf("redirect URI %s", s.RedirectURI())
	}
}

func TestStrayRequestsDoNotEndTheLogin(t *testing.T) {
	s := start(t, Options{})
	if code, _ := get(t, s, "/favicon.ico", nil); code != http.StatusNotFound {
		t.Errorf("favicon: %d", code)
	}
	resp, err := http.Post(s.RedirectURI(), "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
	code, body := get(t, s, "/callback", url.Values{"code": {"c"}, "state": {"wrong"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "does not belong") {
		t.Errorf("wrong state: %d %s", code, body)
	}
	code, _ = get(t, s, "/callback", url.Values{"code": {"c"}})
	if code != http.StatusBadRequest {
		t.Errorf("missing state: %d", code)
	}
	if s.Refused() != 2 {
		t.Errorf("refused = %d, want 2", s.Refused())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Wait(ctx); err == nil {
		t.Fatal("a refused request ended the wait")
	}
}

func TestAcceptsOneCallbackAndShowsOutcome(t *testing.T) {
	s := start(t, Options{})
	go func() {
		r, err := s.Wait(context.Background())
		if err != nil || r.Code != "the-code" {
			t.Errorf("wait: %v %+v", err, r)
			return
		}
		r.Finish(Page{OK: true, Message: "done"})
	}()
	code, body := get(t, s, "/callback", url.Values{"code": {"the-code"}, "state": {"the-state"}})
	if code != http.StatusOK || !strings.Contains(body, "Signed in") || strings.Contains(body, "the-code") {
		t.Fatalf("%d %s", code, body)
	}
	// The listener closes after the accepted callback.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := http.Get(s.RedirectURI()); err != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("listener still open after the accepted callback")
}

func TestResponses(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		q        url.Values
		wantCode string
		wantErr  string
	}{
		{"code", Options{}, url.Values{"code": {"c"}}, "c", ""},
		{"provider error", Options{}, url.Values{"error": {"access_denied"}, "error_description": {"no"}}, "", "access_denied"},
		{"no code no error", Options{}, url.Values{}, "", "invalid_response"},
		{"matching iss", Options{Issuer: "https://idp", RequireIss: true}, url.Values{"code": {"c"}, "iss": {"https://idp"}}, "c", ""},
		{"foreign iss", Options{Issuer: "https://idp"}, url.Values{"code": {"c"}, "iss": {"https://evil"}}, "", "issuer_mismatch"},
		{"missing required iss", Options{Issuer: "https://idp", RequireIss: true}, url.Values{"code": {"c"}}, "", "issuer_mismatch"},
		{"iss not required and absent", Options{Issuer: "https://idp"}, url.Values{"code": {"c"}}, "c", ""},
		{"error with foreign iss is a mix-up", Options{Issuer: "https://idp"}, url.Values{"error": {"access_denied"}, "iss": {"https://evil"}}, "", "issuer_mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, tt.opts)
			tt.q.Set("state", "the-state")
			done := make(chan struct{})
			go func() {
				defer close(done)
				get(t, s, "/callback", tt.q)
			}()
			r, err := s.Wait(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			r.Finish(Page{})
			<-done
			if r.Code != tt.wantCode {
				t.Errorf("code %q, want %q", r.Code, tt.wantCode)
			}
			got := ""
			if r.Err != nil {
				got = r.Err.Code
			}
			if got != tt.wantErr {
				t.Errorf("error %q, want %q", got, tt.wantErr)
			}
		})
	}
}

func TestSecondCallbackIsRefused(t *testing.T) {
	s := start(t, Options{})
	first := make(chan struct{})
	go func() {
		defer close(first)
		get(t, s, "/callback", url.Values{"code": {"c"}, "state": {"the-state"}})
	}()
	r, err := s.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// While the first is in flight (exchange running), a replay is refused.
	code, _ := get(t, s, "/callback", url.Values{"code": {"c2"}, "state": {"the-state"}})
	if code != http.StatusConflict {
		t.Errorf("second callback: %d", code)
	}
	r.Finish(Page{OK: true})
	<-first
}

func TestCloseUnblocksBrowser(t *testing.T) {
	s := start(t, Options{})
	res := make(chan int, 1)
	go func() {
		code, _ := get(t, s, "/callback", url.Values{"code": {"c"}, "state": {"the-state"}})
		res <- code
	}()
	if _, err := s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	select {
	case code := <-res:
		if code != http.StatusBadRequest {
			t.Errorf("status %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("browser request hung after Close")
	}
}

package loopback

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const testAuthURL = "https://idp.example/auth?client_id=cli&state=the-state&code_challenge=abc"

// fetch GETs rawURL without following a redirect, as a browser's first hop.
func fetch(t *testing.T, rawURL string) (int, http.Header, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestStartRedirectsOnce: the start URL is on the listener, carries
// nothing of the authorization request, and its first GET redirects there
// without caching; the login then goes on as usual.
func TestStartRedirectsOnce(t *testing.T) {
	s := start(t, Options{})
	startURL, err := s.Start(testAuthURL)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(startURL)
	if err != nil || u.Scheme != "http" || u.Host != s.host || u.RawQuery != "" || !strings.HasPrefix(u.Path, "/start/") {
		t.Fatalf("start URL %s", startURL)
	}
	if strings.Contains(startURL, "state") || strings.Contains(startURL, "idp.example") {
		t.Fatalf("start URL %s carries the authorization request", startURL)
	}
	code, h, _ := fetch(t, startURL)
	if code != http.StatusFound || h.Get("Location") != testAuthURL ||
		h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("first GET: %d %v", code, h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Wait(ctx); err != context.DeadlineExceeded {
		t.Fatalf("the first GET ended the wait: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		get(t, s, CallbackPath, url.Values{"code": {"c"}, "state": {"the-state"}})
	}()
	r, err := s.Wait(context.Background())
	if err != nil || r.Code != "c" {
		t.Fatalf("callback after the start: %+v %v", r, err)
	}
	r.Finish(Page{OK: true})
	<-done
}

// TestSecondStartFetchStopsLogin: whoever fetches the start URL second,
// the user's browser or another program, the login stops: Wait returns the
// error at once, the second fetch gets an error page (and never the
// authorization URL), and a callback that comes afterwards is not accepted.
func TestSecondStartFetchStopsLogin(t *testing.T) {
	s := start(t, Options{})
	startURL, _ := s.Start(testAuthURL)
	waited := make(chan error, 1)
	go func() {
		r, err := s.Wait(context.Background())
		if r != nil {
			t.Errorf("a response %+v", r)
		}
		waited <- err
	}()
	fetch(t, startURL)
	code, h, page := fetch(t, startURL)
	if code != http.StatusGone || h.Get("Location") != "" || !strings.Contains(page, "already used") || strings.Contains(page, "the-state") {
		t.Fatalf("second GET: %d %v\n%s", code, h, page)
	}
	select {
	case err := <-waited:
		if err == nil || !strings.Contains(err.Error(), "opened a second time") || !strings.Contains(err.Error(), startURL) {
			t.Fatalf("Wait: %v", err)
		}
		if s.Err() != err {
			t.Errorf("Err %v, Wait %v", s.Err(), err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second GET did not end the wait")
	}
	code, page = get(t, s, CallbackPath, url.Values{"code": {"c"}, "state": {"the-state"}})
	if code != http.StatusBadRequest || !strings.Contains(page, "login stopped") {
		t.Errorf("callback after the stop: %d %s", code, page)
	}
	if _, err := s.Wait(context.Background()); err != s.Err() {
		t.Errorf("Wait after the stop: %v", err)
	}
	if code, _, _ := fetch(t, startURL); code != http.StatusGone {
		t.Errorf("third GET: %d", code)
	}
}

// TestStartFetchDuringExchangeIsReported: the second fetch may come after
// the callback was accepted (another program signed in first, the user's
// browser arrived second); Err reports it so the login stores nothing.
func TestStartFetchDuringExchangeIsReported(t *testing.T) {
	s := start(t, Options{})
	startURL, _ := s.Start(testAuthURL)
	fetch(t, startURL)
	done := make(chan struct{})
	go func() {
		defer close(done)
		get(t, s, CallbackPath, url.Values{"code": {"c"}, "state": {"the-state"}})
	}()
	r, err := s.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Err() != nil {
		t.Fatalf("Err before the second fetch: %v", s.Err())
	}
	if code, _, _ := fetch(t, startURL); code != http.StatusGone {
		t.Errorf("second GET: %d", code)
	}
	if s.Err() == nil {
		t.Fatal("Err does not report the second fetch")
	}
	r.Finish(Page{Message: "stopped"})
	<-done
}

// TestStartOnlyByGET: other methods (a HEAD from a link preview, say) are
// refused without using the start URL up; paths near it are unknown.
func TestStartOnlyByGET(t *testing.T) {
	s := start(t, Options{})
	startURL, _ := s.Start(testAuthURL)
	for _, m := range []string{http.MethodHead, http.MethodPost, http.MethodPut} {
		req, _ := http.NewRequest(m, startURL, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d", m, resp.StatusCode)
		}
	}
	for _, near := range []string{startURL + "x", startURL[:len(startURL)-1], startURL + "/", "http://" + s.host + "/start/", "http://" + s.host + "/start"} {
		if code, _, _ := fetch(t, near); code != http.StatusNotFound {
			t.Errorf("%s: %d", near, code)
		}
	}
	if code, _, _ := fetch(t, startURL); code != http.StatusFound || s.Err() != nil {
		t.Errorf("GET after the others: %d, %v", code, s.Err())
	}
}

// TestStartPathsAreRandom: 128 random bits, base64url, new for every login.
func TestStartPathsAreRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 2 {
		s := start(t, Options{})
		startURL, err := s.Start(testAuthURL)
		if err != nil {
			t.Fatal(err)
		}
		random := strings.TrimPrefix(startURL, "http://"+s.host+"/start/")
		if b, err := base64.RawURLEncoding.DecodeString(random); err != nil || len(b) < 16 {
			t.Fatalf("start path %q: %d bytes, %v", random, len(b), err)
		}
		if seen[random] {
			t.Fatalf("start path %q twice", random)
		}
		seen[random] = true
	}
}

// TestStartRefusesNonHTTP: only an http(s) authorization URL is redirected to.
func TestStartRefusesNonHTTP(t *testing.T) {
	s := start(t, Options{})
	for _, u := range []string{"javascript:alert(1)", "file:///etc/passwd", "ftp://idp.example/auth", "/auth", "https:///auth", "data:text/html,x"} {
		if got, err := s.Start(u); err == nil {
			t.Errorf("%s: start URL %s", u, got)
		}
	}
}

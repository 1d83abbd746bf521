package httpx

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// catcher records every request it gets; a redirect test passes only when
// it got none.
func catcher(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, `{"caught":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestRedirects(t *testing.T) {
	foreign, hits := catcher(t)
	var home *httptest.Server
	home = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away307":
			http.Redirect(w, r, foreign.URL+"/cb?code=secret-code", http.StatusTemporaryRedirect)
		case "/away302":
			http.Redirect(w, r, foreign.URL+"/cb?code=secret-code", http.StatusFound)
		case "/moved":
			http.Redirect(w, r, "/doc", http.StatusMovedPermanently)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/doc":
			io.WriteString(w, `{"ok":true}`)
		}
	}))
	t.Cleanup(home.Close)

	tests := []struct {
		name       string
		client     func(*http.Client) *http.Client
		path       string
		wantStatus int    // of a refused redirect; 0 means followed
		wantMsg    string // in the error
	}{
		{"no redirects: 307 to another origin", NoRedirects, "/away307", 307, "never follows a redirect"},
		{"no redirects: 302 to another origin", NoRedirects, "/away302", 302, "never follows a redirect"},
		{"no redirects: even within the origin", NoRedirects, "/moved", 301, "never follows a redirect"},
		{"same origin: followed", SameOrigin, "/moved", 0, ""},
		{"same origin: 307 to another origin", SameOrigin, "/away307", 307, "only within the same origin"},
		{"same origin: 302 to another origin", SameOrigin, "/away302", 302, "only within the same origin"},
		{"same origin: endless", SameOrigin, "/loop", 302, "stopped following"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			resp, err := tt.client(&http.Client{Timeout: 5 * time.Second}).Get(home.URL + tt.path)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != `{"ok":true}` {
					t.Errorf("body %q", b)
				}
				return
			}
			var rd *RedirectError
			if !errors.As(err, &rd) {
				t.Fatalf("err %v, want a *RedirectError", err)
			}
			wantTo := foreign.URL
			if tt.path == "/moved" || tt.path == "/loop" {
				wantTo = home.URL
			}
			if rd.Status != tt.wantStatus || rd.From != home.URL || rd.To != wantTo {
				t.Errorf("got %+v, want status %d from %s to %s", rd, tt.wantStatus, home.URL, wantTo)
			}
			msg := rd.Named("the token endpoint").Error()
			if !strings.HasPrefix(msg, "the token endpoint answered HTTP") || !strings.Contains(msg, tt.wantMsg) || strings.Contains(err.Error(), "secret-code") {
				t.Errorf("message %q", msg)
			}
			if hits.Load() != 0 {
				t.Errorf("the other origin got %d request(s)", hits.Load())
			}
		})
	}
}

func TestClientCopies(t *testing.T) {
	jar := &nopJar{}
	base := &http.Client{Timeout: 7 * time.Second, Jar: jar}
	for _, c := range []*http.Client{NoRedirects(base), SameOrigin(base)} {
		if c == base || c.Timeout != base.Timeout || c.Jar != jar || c.CheckRedirect == nil {
			t.Errorf("copy %+v", c)
		}
		if _, ok := c.Transport.(guard); !ok {
			t.Errorf("transport %T is not guarded", c.Transport)
		}
	}
	if base.CheckRedirect != nil || base.Transport != nil {
		t.Error("the caller's client changed")
	}
	if c := NoRedirects(nil); c.Timeout == 0 {
		t.Error("a nil client gave one without a timeout")
	}
	if g := NoRedirects(SameOrigin(nil)).Transport.(guard); g.base != http.DefaultTransport || g.sameOrigin {
		t.Errorf("guards stacked, or the looser one won: %+v", g)
	}
}

type nopJar struct{ http.CookieJar }

func TestBodyBound(t *testing.T) {
	const giB = 1 << 30
	var sent atomic.Int64
	chunk := []byte(strings.Repeat(`{"kty":"RSA","n":"AQAB"},`, 2<<10))
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"keys":[`)
		for sent.Load() < giB {
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(huge.Close)
	exact := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, MaxBody))
	}))
	t.Cleanup(exact.Close)

	for _, c := range []*http.Client{NoRedirects(nil), SameOrigin(nil)} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		resp, err := c.Get(huge.URL + "/jwks?x=secret")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		var tl *TooLargeError
		if !errors.As(err, &tl) || len(b) != MaxBody || !strings.Contains(err.Error(), huge.URL+"/jwks") || strings.Contains(err.Error(), "secret") {
			t.Fatalf("read %d bytes, err %v; want MaxBody bytes and a *TooLargeError naming the URL without its query", len(b), err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
			t.Errorf("reading allocated %d MiB", grew>>20)
		}
		if elapsed > 5*time.Second {
			t.Errorf("took %s", elapsed)
		}
		if _, err := resp.Body.Read(make([]byte, 1)); !errors.As(err, &tl) {
			t.Errorf("a read after the limit gave %v", err)
		}
	}

	resp, err := NoRedirects(nil).Get(exact.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(b) != MaxBody {
		t.Errorf("a body of exactly MaxBody: %d bytes, %v", len(b), err)
	}
}

func TestCheckEndpoint(t *testing.T) {
	tests := []struct {
		url  string
		want string // "" means accepted
	}{
		{"https://idp.example/token", ""},
		{"https://idp.example:8443/oauth2/token?p=B2C_1", ""},
		{"http://127.0.0.1:8080/token", ""},
		{"http://127.1.2.3/token", ""},
		{"http://localhost:3000/token", ""},
		{"http://LocalHost/token", ""},
		{"http://[::1]:9000/token", ""},
		{"http://idp.example/token", "must use https"},
		{"http://10.0.0.1/token", "must use https"},
		{"http://localhost.evil.example/token", "must use https"},
		{"http://127.0.0.1.nip.io/token", "must use https"},
		{"file:///etc/passwd", "not an absolute http(s) URL"},
		{"javascript:alert(1)", "not an absolute http(s) URL"},
		{"com.example.app:/callback", "not an absolute http(s) URL"},
		{"/token", "not an absolute http(s) URL"},
		{"https:///token", "not an absolute http(s) URL"},
		{"https://idp.example/token#frag", "fragment"},
		{"https://idp.example/token#", "fragment"},
		{"https://idp.example/%zz", "not a URL"},
		{"", "not an absolute http(s) URL"},
	}
	for _, tt := range tests {
		err := CheckEndpoint(tt.url)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v", tt.url, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: err %v, want %q", tt.url, err, tt.want)
		case err != nil && !strings.Contains(err.Error(), tt.url):
			t.Errorf("%q: the error does not name the URL: %v", tt.url, err)
		}
	}
}

func TestSameOriginRule(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"https://idp.example/a", "https://idp.example/b?x=1", true},
		{"https://idp.example/a", "https://IDP.example:443/b", true},
		{"http://127.0.0.1:80/a", "http://127.0.0.1/b", true},
		{"https://idp.example/a", "http://idp.example/a", false},
		{"https://idp.example/a", "https://idp.example:8443/a", false},
		{"https://idp.example/a", "https://evil.idp.example/a", false},
		{"http://127.0.0.1:1000/a", "http://127.0.0.1:2000/a", false},
		{"http://127.0.0.1/a", "http://localhost/a", false},
	}
	for _, tt := range tests {
		a, _ := url.Parse(tt.a)
		b, _ := url.Parse(tt.b)
		if got := sameOrigin(a, b); got != tt.same {
			t.Errorf("sameOrigin(%s, %s) = %v", tt.a, tt.b, got)
		}
	}
}

package cli

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/testidp"
)

// loopbackCases: the loopback listener: Host check and the one-time start URL.
func loopbackCases() []hostileCase {
	exchanges := func(n int) func(*testing.T, *harness, string, string) {
		return func(t *testing.T, h *harness, _, _ string) {
			t.Helper()
			if got := h.idp.Grants("authorization_code"); got != n+1 { // +1: the harness's own login
				t.Errorf("%d code exchanges during the case, want %d", got-1, n)
			}
		}
	}
	secondFetch := "opened a second time"
	return []hostileCase{
		// A web page that rebinds its own host name to 127.0.0.1 gets the
		// user's browser to send it; even this login's state and a real
		// code do not get through.
		{surface: "loopback", name: "callback with state and code but a foreign Host", act: func(b *hostileBrowser, authURL string, _ url.Values) bool {
			redirect, err := b.idp.Authorize(authURL, testidp.Approve)
			if err != nil {
				return false
			}
			u, _ := url.Parse(redirect)
			for _, host := range []string{"evil.example:" + u.Port(), "localhost:" + u.Port(), "127.0.0.1:1"} {
				b.sendHost(redirect, host)
			}
			return false
		}, wantCode: 1, want: "timed out", wantStatus: http.StatusMisdirectedRequest, after: func(t *testing.T, h *harness, stdout, stderr string) {
			exchanges(0)(t, h, stdout, stderr)
			if !strings.Contains(stderr, "DNS rebinding") || strings.Contains(stderr, "wrong state") {
				t.Errorf("stderr:\n%s", stderr)
			}
		}},
		// ... nor can such a page use up the start URL: the user's own
		// browser then signs in as usual.
		{surface: "loopback", name: "start URL fetched with a foreign Host", act: func(b *hostileBrowser, _ string, _ url.Values) bool {
			u, _ := url.Parse(b.start)
			b.sendHost(b.start, "evil.example:"+u.Port())
			return true
		}, wantStatus: http.StatusMisdirectedRequest, mayStore: true, after: func(t *testing.T, h *harness, stdout, stderr string) {
			exchanges(1)(t, h, stdout, stderr)
			if !strings.Contains(stderr, "Logged in") {
				t.Errorf("the login did not complete:\n%s", stderr)
			}
		}},
		// Another program read the start URL (from the browser's command
		// line) and fetched it too: whoever came second, the login stops,
		// even when the user carries on in the browser.
		{surface: "loopback", name: "start URL fetched a second time", act: func(b *hostileBrowser, _ string, _ url.Values) bool {
			b.send(http.MethodGet, b.start)
			return true
		}, wantCode: 1, want: secondFetch, wantStatus: http.StatusGone, after: exchanges(0)},
		// The other program signed in first; the second fetch comes while
		// its code is exchanged, and nothing is stored.
		{surface: "loopback", name: "start URL fetched again during the exchange", setup: func(h *harness) { h.idp.Delay(300 * time.Millisecond) }, act: func(b *hostileBrowser, authURL string, _ url.Values) bool {
			redirect, err := b.idp.Authorize(authURL, testidp.Approve)
			if err != nil {
				return false
			}
			go func() {
				if resp, err := http.Get(redirect); err == nil {
					resp.Body.Close()
				}
			}()
			time.Sleep(100 * time.Millisecond)
			b.send(http.MethodGet, b.start)
			return false
		}, wantCode: 1, want: secondFetch, wantStatus: http.StatusGone, after: exchanges(1)},
		// --no-browser prints the same short URL; the authorization
		// request (state, PKCE challenge) never reaches the terminal.
		{surface: "loopback", name: "--no-browser prints the start URL only", args: []string{"login", "--no-browser", "--timeout", "300ms"}, wantCode: 1, want: "timed out", after: func(t *testing.T, h *harness, _, stderr string) {
			if !regexp.MustCompile(`\n  http://127\.0\.0\.1:\d+/start/[A-Za-z0-9_-]{22}\n`).MatchString(stderr) {
				t.Errorf("no start URL printed:\n%s", stderr)
			}
			for _, s := range []string{"code_challenge", "state=", h.idp.Endpoint("/auth")} {
				if strings.Contains(stderr, s) {
					t.Errorf("stderr shows %q:\n%s", s, stderr)
				}
			}
		}},
	}
}

// sendHost is send with another Host header, as a page that rebound its
// own name to 127.0.0.1 makes the browser send.
func (b *hostileBrowser) sendHost(rawURL, host string) {
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	req.Host = host
	status := 0
	if resp, err := http.DefaultClient.Do(req); err == nil {
		status = resp.StatusCode
		resp.Body.Close()
	}
	b.mu.Lock()
	b.results = append(b.results, status)
	b.mu.Unlock()
}

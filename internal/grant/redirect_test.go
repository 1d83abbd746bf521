package grant

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// trap is a redirector answering status with a Location on a catcher of
// another origin; caught counts what reached the catcher.
func trap(t *testing.T, status int) (redirector string, caught *atomic.Int32) {
	t.Helper()
	caught = new(atomic.Int32)
	catcher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caught.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"caught","token_type":"Bearer","active":true}`))
	}))
	t.Cleanup(catcher.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, catcher.URL+r.URL.Path+"?code=stolen", status)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, caught
}

// deviceEndpoint answers a device authorization request (RFC 8628 §3.2).
func deviceEndpoint(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"device_code": "dc", "user_code": "UC", "verification_uri": "https://idp.example/device", "expires_in": 60, "interval": 1})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRedirectsAreRefused: every call carries a secret (a code, a refresh
// token, a device code, a token), so none follows a redirect; the error
// has no OAuth code, so a refresh that meets one never ends the login.
func TestRedirectsAreRefused(t *testing.T) {
	ctx := context.Background()
	calls := []struct {
		name, what string
		call       func(c Client, endpoint string) error
	}{
		{"exchange", "token", func(c Client, u string) error {
			c.TokenURL = u
			_, err := c.Exchange(ctx, "the-code", "the-verifier", "http://127.0.0.1:1/callback", nil)
			return err
		}},
		{"refresh", "token", func(c Client, u string) error {
			c.TokenURL = u
			_, err := c.Refresh(ctx, "the-rt", nil)
			return err
		}},
		{"refresh for a resource", "token", func(c Client, u string) error {
			c.TokenURL = u
			_, err := c.Refresh(ctx, "the-rt", url.Values{"resource": {"https://api.example.com"}})
			return err
		}},
		{"device authorization", "device authorization", func(c Client, u string) error {
			_, err := c.DeviceAuth(ctx, u, []string{"openid"}, nil)
			return err
		}},
		{"device polling", "token", func(c Client, u string) error {
			dc, err := c.DeviceAuth(ctx, deviceEndpoint(t), []string{"openid"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.TokenURL = u
			_, err = c.DeviceToken(ctx, dc, nil)
			return err
		}},
		{"revocation", "revocation", func(c Client, u string) error { return c.Revoke(ctx, u, "the-rt", "refresh_token") }},
		{"introspection", "introspection", func(c Client, u string) error {
			_, err := c.Introspect(ctx, u, "the-at", "access_token")
			return err
		}},
	}
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusFound, http.StatusPermanentRedirect} {
		for _, tt := range calls {
			t.Run(tt.name+"/"+http.StatusText(status), func(t *testing.T) {
				u, caught := trap(t, status)
				// A client that would follow: the caller's own policy must not matter.
				c := Client{ClientID: "cli", HTTP: &http.Client{Timeout: 5 * time.Second}}
				err := tt.call(c, u+"/endpoint")
				var ge *Error
				var rd *httpx.RedirectError
				if !errors.As(err, &ge) || ge.Code != "" || IsInvalidGrant(err) || !errors.As(err, &rd) || rd.Status != status {
					t.Fatalf("err %#v, want an *Error without a code around a *RedirectError", err)
				}
				want := "the " + tt.what + " endpoint answered HTTP " + strconv.Itoa(status) + ", a redirect to http://127.0.0.1:"
				if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "stolen") {
					t.Errorf("message %q, want %q and no target path", err, want)
				}
				if caught.Load() != 0 {
					t.Errorf("the other origin got %d request(s)", caught.Load())
				}
			})
		}
	}
}

// TestEndpointPolicyBeforeSending: an endpoint that fails the URL policy
// (a stored one, say) is refused before any request.
func TestEndpointPolicyBeforeSending(t *testing.T) {
	ctx := context.Background()
	var sent atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		sent.Add(1)
		return nil, errors.New("sent")
	})}
	c := Client{ClientID: "cli", TokenURL: "http://idp.example/token", HTTP: hc}
	if _, err := c.Refresh(ctx, "rt", nil); err == nil || !strings.Contains(err.Error(), `the token endpoint "http://idp.example/token" must use https`) || IsInvalidGrant(err) {
		t.Errorf("refresh: %v", err)
	}
	if _, err := c.Exchange(ctx, "code", "verifier", "http://127.0.0.1:1/cb", nil); err == nil || !strings.Contains(err.Error(), "must use https") {
		t.Errorf("exchange: %v", err)
	}
	if err := c.Revoke(ctx, "javascript:alert(1)", "rt", "refresh_token"); err == nil || !strings.Contains(err.Error(), "revocation endpoint") {
		t.Errorf("revoke: %v", err)
	}
	if _, err := c.DeviceAuth(ctx, "file:///etc/passwd", nil, nil); err == nil || !strings.Contains(err.Error(), "device authorization endpoint") {
		t.Errorf("device: %v", err)
	}
	if sent.Load() != 0 {
		t.Errorf("%d request(s) went out", sent.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestTokenCharset: tokens are visible ASCII (RFC 6749 Appendix A); one
// with a line break would split the header it is pasted into. The error
// names the token and the character, never the token, and is no
// invalid_grant.
func TestTokenCharset(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"access_token CR/LF", `{"access_token":"ab\r\nX-Injected: yes","token_type":"Bearer"}`, "the access_token contains a line break at byte 2"},
		{"access_token space", `{"access_token":"a b","token_type":"Bearer"}`, "the access_token contains a space at byte 1"},
		{"access_token NUL", `{"access_token":"a\u0000","token_type":"Bearer"}`, "a control character at byte 1"},
		{"access_token non-ASCII", `{"access_token":"aé","token_type":"Bearer"}`, "a non-ASCII byte at byte 1"},
		{"access_token DEL", `{"access_token":"a\u007f","token_type":"Bearer"}`, "a control character"},
		{"refresh_token LF", `{"access_token":"at","token_type":"Bearer","refresh_token":"r\nX-Injected: yes"}`, "the refresh_token contains a line break at byte 1"},
		{"id_token tab", `{"access_token":"at","token_type":"Bearer","id_token":"e30.e30.\tX-Injected"}`, "the id_token contains a tab at byte 8"},
		{"token_type CR", `{"access_token":"at","token_type":"Bearer\rX-Injected: yes"}`, "the token_type contains a line break at byte 6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := endpoint(t, 200, "application/json", tt.body, nil)
			for name, call := range map[string]func() (*Tokens, error){
				"exchange": func() (*Tokens, error) {
					return Client{ClientID: "cli", TokenURL: u}.Exchange(context.Background(), "c", "v", "http://127.0.0.1:1/cb", nil)
				},
				"refresh": func() (*Tokens, error) {
					return Client{ClientID: "cli", TokenURL: u}.Refresh(context.Background(), "rt", nil)
				},
			} {
				tok, err := call()
				if tok != nil || err == nil || !strings.Contains(err.Error(), tt.want) || IsInvalidGrant(err) {
					t.Errorf("%s: %v %v, want %q", name, tok, err, tt.want)
				}
				if err != nil && strings.Contains(err.Error(), "X-Injected") {
					t.Errorf("%s: the error repeats the token: %v", name, err)
				}
			}
		})
	}
	u := endpoint(t, 200, "application/json", `{"access_token":"A-z0-9._~+/=!#$%&'()*,:;<>?@[]^{|}","token_type":"Bearer","refresh_token":"rt","id_token":"e30.e30.c2ln"}`, nil)
	if _, err := (Client{ClientID: "cli", TokenURL: u}).Refresh(context.Background(), "rt", nil); err != nil {
		t.Errorf("visible ASCII refused: %v", err)
	}
}

package grant

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/httpx"
)

func TestPush(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name, contentType, body string
		status                  int
		location                string
		wantURI                 string
		wantLife                time.Duration
		wantCode, wantErr       string
	}{
		{name: "created", status: 201, body: `{"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":90}`,
			wantURI: "urn:ietf:params:oauth:request_uri:abc", wantLife: 90 * time.Second},
		{name: "200 taken too", status: 200, body: `{"request_uri":"urn:x","expires_in":60}`, wantURI: "urn:x", wantLife: time.Minute},
		{name: "no expires_in", status: 201, body: `{"request_uri":"urn:x"}`, wantURI: "urn:x", wantLife: 60 * time.Second},
		{name: "refused", status: 400, body: `{"error":"invalid_request","error_description":"redirect_uri did not match"}`, wantCode: "invalid_request"},
		{name: "unknown client", status: 401, body: `{"error":"invalid_client"}`, wantCode: "invalid_client"},
		{name: "HTML error", status: 500, contentType: "text/html", body: "<h1>oops</h1>", wantErr: "answered HTTP 500 (text/html) without an OAuth error"},
		{name: "no request_uri", status: 201, body: `{"expires_in":60}`, wantErr: "has no request_uri"},
		{name: "request_uri with a line break", status: 201, body: `{"request_uri":"urn:x\r\nSet-Cookie: a=b"}`, wantErr: "request_uri contains a line break"},
		{name: "negative expires_in", status: 201, body: `{"request_uri":"urn:x","expires_in":-5}`, wantErr: "expires_in is -5"},
		{name: "absurd expires_in", status: 201, body: `{"request_uri":"urn:x","expires_in":1e30}`, wantErr: "expires_in is 1e30"},
		{name: "not JSON", status: 201, body: `request_uri=urn:x`, wantErr: "not JSON"},
		{name: "redirect", status: 307, location: "https://elsewhere.example/par", wantErr: "a redirect to https://elsewhere.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var form url.Values
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				form, _ = url.ParseQuery(string(b))
				if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
					t.Errorf("%s %s", r.Method, r.Header.Get("Content-Type"))
				}
				if tt.location != "" {
					w.Header().Set("Location", tt.location)
				}
				w.Header().Set("Content-Type", cmp.Or(tt.contentType, "application/json"))
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := Client{ClientID: "cli", HTTP: srv.Client(), Now: func() time.Time { return now }}
			p, err := c.Push(context.Background(), srv.URL+"/par", url.Values{"scope": {"openid"}, "client_id": {"ignored"}})
			if form.Get("client_id") != "cli" || form.Get("scope") != "openid" || len(form["client_id"]) != 1 {
				t.Errorf("pushed %v", form)
			}
			switch {
			case tt.wantURI != "":
				if err != nil || p.RequestURI != tt.wantURI || !p.Expiry.Equal(now.Add(tt.wantLife)) {
					t.Fatalf("got %+v, %v", p, err)
				}
			case tt.wantCode != "":
				var ge *Error
				if !errors.As(err, &ge) || ge.Code != tt.wantCode || ge.Status != tt.status || !strings.HasPrefix(err.Error(), "push the authorization request: ") {
					t.Fatalf("err %v", err)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				var rd *httpx.RedirectError
				if tt.location != "" && !errors.As(err, &rd) {
					t.Errorf("a redirect is not a RedirectError: %v", err)
				}
			}
		})
	}
}

func TestPushPolicyAndNetwork(t *testing.T) {
	c := Client{ClientID: "cli"}
	if _, err := c.Push(context.Background(), "http://idp.example/par", nil); err == nil || !strings.Contains(err.Error(), "must use https") {
		t.Errorf("plain http to a remote host: %v", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String() + "/par"
	ln.Close()
	_, err := c.Push(context.Background(), dead, nil)
	var ge *Error
	if !errors.As(err, &ge) || ge.Code != "" || !strings.Contains(err.Error(), "could not reach the pushed authorization request endpoint") {
		t.Errorf("unreachable: %v", err)
	}
}

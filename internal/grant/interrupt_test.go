package grant

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// An interrupt while the device flow polls, between two requests, or
// during one, stays context.Canceled, so that the command exits 130;
// a device code that expired stays apart from it.
func TestDeviceTokenInterrupted(t *testing.T) {
	for _, tt := range []struct {
		name  string
		delay time.Duration // how long the token endpoint takes to answer
	}{
		{"between polls", 0},
		{"during a poll", time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			mux := http.NewServeMux()
			mux.HandleFunc("/device", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"device_code":"dc","user_code":"ABCD","verification_uri":"https://idp.example/device","expires_in":600,"interval":1}`)
			})
			mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-time.After(tt.delay):
				case <-done:
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(400)
				io.WriteString(w, `{"error":"authorization_pending"}`)
			})
			srv := httptest.NewServer(mux)
			t.Cleanup(func() { close(done); srv.Close() })
			c := Client{ClientID: "cli", TokenURL: srv.URL + "/token"}
			dc, err := c.DeviceAuth(context.Background(), srv.URL+"/device", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ctx, interrupt := context.WithCancel(ctx)
			time.AfterFunc(1500*time.Millisecond, interrupt)
			_, err = c.DeviceToken(ctx, dc, url.Values{"resource": {"https://api.example"}})
			if !errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("DeviceToken: %v, want context.Canceled", err)
			}
		})
	}
}

// A refresh interrupted during its request is context.Canceled too.
func TestRefreshInterrupted(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-done }))
	t.Cleanup(func() { close(done); srv.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := Client{ClientID: "cli", TokenURL: srv.URL}.Refresh(ctx, "rt", nil)
	var ge *Error
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ge) || ge.Code != "" {
		t.Fatalf("Refresh: %v", err)
	}
}

// BasicID sends the client_id as the HTTP Basic user with an empty
// password (form-encoded first, RFC 6749 §2.3.1) and not in the form.
func TestRevokeBasicID(t *testing.T) {
	var user, pass string
	var ok bool
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok = r.BasicAuth()
		r.ParseForm()
		form = r.PostForm
	}))
	t.Cleanup(srv.Close)
	if err := (Client{ClientID: "a b:c", BasicID: true}).Revoke(context.Background(), srv.URL, "tok", "refresh_token"); err != nil {
		t.Fatal(err)
	}
	if !ok || user != "a+b%3Ac" || pass != "" || form.Has("client_id") || form.Get("token") != "tok" || form.Get("token_type_hint") != "refresh_token" {
		t.Errorf("basic %v %q %q, form %v", ok, user, pass, form)
	}
	if err := (Client{ClientID: "cli"}).Revoke(context.Background(), srv.URL, "tok", ""); err != nil {
		t.Fatal(err)
	}
	if ok || form.Get("client_id") != "cli" {
		t.Errorf("default: basic %v, form %v", ok, form)
	}
}

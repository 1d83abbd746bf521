package inspect

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestFetchJWKSPolicy: keys come from the origin that was asked, over
// https or loopback, and no more than a bounded body is read.
func TestFetchJWKSPolicy(t *testing.T) {
	var caught atomic.Int32
	catcher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caught.Add(1)
		w.Write([]byte(`{"keys":[]}`))
	}))
	t.Cleanup(catcher.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, catcher.URL+"/jwks", http.StatusFound)
		case "/moved":
			http.Redirect(w, r, "/jwks", http.StatusMovedPermanently)
		case "/jwks":
			w.Write([]byte(`{"keys":[]}`))
		case "/huge":
			w.Write([]byte(`{"keys":[` + strings.Repeat(`{"kty":"RSA"},`, 100_000)))
		}
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	if _, err := fetchJWKS(ctx, http.DefaultClient, srv.URL+"/moved", false); err != nil {
		t.Errorf("same-origin move: %v", err)
	}
	for path, want := range map[string]string{
		srv.URL + "/away":          "a redirect to another origin, " + catcher.URL,
		srv.URL + "/huge":          "larger than",
		"http://keys.example/jwks": "must use https",
	} {
		if _, err := fetchJWKS(ctx, http.DefaultClient, path, false); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	if caught.Load() != 0 {
		t.Errorf("the other origin got %d request(s)", caught.Load())
	}
}

package doctor

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRedirects: the doctor fetches as a login does, following a redirect
// within the origin only; another origin gets nothing, and the failed item
// says what to do.
func TestRedirects(t *testing.T) {
	var caught atomic.Int32
	catcher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caught.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	t.Cleanup(catcher.Close)
	away := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, catcher.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(away.Close)

	t.Run("discovery to another origin", func(t *testing.T) {
		caught.Store(0)
		issuer := fake{discovery: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, catcher.URL+r.URL.Path, http.StatusTemporaryRedirect)
		}}.start(t)
		r := run(t, Options{Issuer: issuer, ClientID: "cli"})
		it := item(t, r, "discovery")
		if r.OK || it.Status != StatusFail || !strings.Contains(it.Detail, "HTTP 307, a redirect to another origin, "+catcher.URL) || !strings.Contains(it.Remedy, "final URL") {
			t.Errorf("%+v\n%s", it, dump(r))
		}
		if caught.Load() != 0 {
			t.Errorf("the other origin got %d request(s)", caught.Load())
		}
	})
	t.Run("jwks to another origin", func(t *testing.T) {
		caught.Store(0)
		issuer := fake{edit: func(_ string, doc map[string]any) { doc["jwks_uri"] = away.URL + "/jwks" }}.start(t)
		r := run(t, Options{Issuer: issuer, ClientID: "cli"})
		it := item(t, r, "jwks")
		if it.Status != StatusFail || !strings.Contains(it.Detail, "another origin") || it.Remedy == "" {
			t.Errorf("%+v\n%s", it, dump(r))
		}
		if caught.Load() != 0 {
			t.Errorf("the other origin got %d request(s)", caught.Load())
		}
	})
	t.Run("discovery moved within the origin", func(t *testing.T) {
		var base string
		base = fake{discovery: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("moved") == "" {
				http.Redirect(w, r, r.URL.Path+"?moved=1", http.StatusMovedPermanently)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(goodDoc(base))
		}}.start(t)
		r := run(t, Options{Issuer: base, ClientID: "cli"})
		if it := item(t, r, "discovery"); !r.OK || it.Status != StatusOK {
			t.Errorf("%+v\n%s", it, dump(r))
		}
	})
}

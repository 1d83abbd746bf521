package cmdutil

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/store"
)

// memStore is a store in memory.
type memStore map[string][]byte

func (m memStore) Get(k string) ([]byte, error) {
	v, ok := m[k]
	if !ok {
		return nil, store.ErrNotFound
	}
	return v, nil
}
func (m memStore) Set(k string, v []byte) error { m[k] = v; return nil }
func (m memStore) Delete(k string) error        { delete(m, k); return nil }
func (m memStore) Backend() string              { return "keychain" }

// TestVerboseNeverLogsSecrets: --verbose names each request (method, URL,
// status, time) and each store call (key, size, outcome), but not one
// secret: the values of code, state, tokens and the like in a URL, a
// password in its user information, a fragment, or what the store holds.
// The requests go to a real server, redirects and errors included, through
// the client EnableVerbose wraps.
func TestVerboseNeverLogsSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/cb?code=SECRET-CODE-REDIRECTED", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // connections to it are refused

	var stderr bytes.Buffer
	keychain := memStore{}
	file := memStore{}
	f := &Factory{Stderr: &stderr, HTTP: &http.Client{Timeout: 10 * time.Second},
		Keychain: func() store.Store { return keychain }}
	f.EnableVerbose()

	query := "?code=SECRET-CODE&state=SECRET-STATE&nonce=SECRET-NONCE&access_token=SECRET-AT" +
		"&refresh_token=SECRET-RT&id_token=SECRET-IDT&code_verifier=SECRET-VERIFIER&token=SECRET-TOKEN" +
		"&client_secret=SECRET-CLIENT&device_code=SECRET-DEVICE&Code=SECRET-UPPER&iss=https%3A%2F%2Fidp.example"
	u := strings.Replace(srv.URL, "http://", "http://alice:SECRET-PASSWORD@", 1)
	for _, target := range []string{u + "/cb" + query + "#SECRET-FRAGMENT", srv.URL + "/moved", deadURL + "/token" + query} {
		req, err := http.NewRequest(http.MethodGet, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := f.HTTP.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	stored := []byte(`{"access_token":"SECRET-STORED-AT"}`)
	if err := f.Keychain().Set("default", stored); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Keychain().Get("default"); err != nil {
		t.Fatal(err)
	}
	fs := f.WrapStore(file)
	if err := fs.Set("work", []byte("SECRET-FILE-VALUE")); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Get("work"); err != nil {
		t.Fatal(err)
	}
	fs.Delete("work")

	log := stderr.String()
	if strings.Contains(log, "SECRET") {
		t.Errorf("--verbose printed a secret:\n%s", log)
	}
	// It did log each of them, with what helps debugging.
	for _, want := range []string{
		"GET " + srv.URL + "/cb?", "code=REDACTED", "state=REDACTED", "iss=https", ": 418 (",
		"GET " + srv.URL + "/moved", ": 302 (",
		"GET " + deadURL + "/token?",
		fmt.Sprintf(`keychain set "default": %d bytes, ok`, len(stored)), fmt.Sprintf(`keychain get "default": %d bytes, ok`, len(stored)),
		`keychain set "work": 17 bytes, ok`, `keychain delete "work": ok`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
}

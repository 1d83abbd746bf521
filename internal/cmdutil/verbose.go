package cmdutil

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/sesame-cli/sesame/internal/redact"
	"github.com/sesame-cli/sesame/internal/store"
)

// verboseLog writes --verbose lines to stderr. It names requests, status
// codes, store keys and timings, never a body, header value or token.
type verboseLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *verboseLog) printf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "sesame: debug: "+format+"\n", a...)
}

type loggingTransport struct {
	base http.RoundTripper
	log  *verboseLog
}

func (t loggingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(r)
	u := redact.URL(r.URL.String())
	if err != nil {
		t.log.printf("%s %s: %v (%s)", r.Method, u, err, time.Since(start).Round(time.Millisecond))
		return nil, err
	}
	t.log.printf("%s %s: %d (%s)", r.Method, u, resp.StatusCode, time.Since(start).Round(time.Millisecond))
	return resp, nil
}

type loggingStore struct {
	store.Store
	log *verboseLog
}

func (s loggingStore) Get(key string) ([]byte, error) {
	start := time.Now()
	b, err := s.Store.Get(key)
	s.log.printf("%s get %q: %d bytes, %v (%s)", s.Backend(), key, len(b), errText(err), time.Since(start).Round(time.Microsecond))
	return b, err
}

func (s loggingStore) Set(key string, v []byte) error {
	start := time.Now()
	err := s.Store.Set(key, v)
	s.log.printf("%s set %q: %d bytes, %v (%s)", s.Backend(), key, len(v), errText(err), time.Since(start).Round(time.Microsecond))
	return err
}

func (s loggingStore) Delete(key string) error {
	err := s.Store.Delete(key)
	s.log.printf("%s delete %q: %v", s.Backend(), key, errText(err))
	return err
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// EnableVerbose wraps the factory's HTTP client and stores with logging.
func (f *Factory) EnableVerbose() {
	log := &verboseLog{w: f.Stderr}
	base := f.HTTP.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc := *f.HTTP
	hc.Transport = loggingTransport{base: base, log: log}
	f.HTTP = &hc
	keychain := f.Keychain
	f.Keychain = func() store.Store { return loggingStore{Store: keychain(), log: log} }
	f.WrapStore = func(s store.Store) store.Store { return loggingStore{Store: s, log: log} }
}

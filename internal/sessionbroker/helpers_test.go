package sessionbroker

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/dpop"
	"github.com/sesame-cli/sesame/internal/sessions"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// clock is the real time moved by an offset, safe for concurrent use:
// the broker and each upstream have their own.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) Set(off time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off = off
}

// logBuffer collects the handler's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Client secrets of the two upstreams, which the logs must never show.
const (
	alphaSecret = "alpha-client-secret-4f1c9e"
	betaSecret  = "beta-client-secret-77d2a0"
)

// harness is a Handler on 127.0.0.1 with two upstreams: alpha takes
// client_secret_basic, beta client_secret_post.
type harness struct {
	h       *Handler
	srv     *httptest.Server
	issuer  string
	clk     *clock
	idpClk  map[string]*clock
	idps    map[string]*testidp.IdP
	keys    *sessions.Keys
	store   sessions.Store
	logs    *logBuffer
	handler http.Handler
}

type harnessOptions struct {
	path  string // the issuer's path
	store func(now func() time.Time) sessions.Store
}

func newHarness(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	hs := &harness{clk: &clock{}, idpClk: map[string]*clock{}, idps: map[string]*testidp.IdP{}, logs: &logBuffer{}}
	var ups []Upstream
	for _, u := range []struct{ name, secret, method string }{{"alpha", alphaSecret, ""}, {"beta", betaSecret, authPost}} {
		c := &clock{}
		idp := testidp.New(t, testidp.Options{ClientID: u.name + "-client", ClientSecret: u.secret, Now: c.Now})
		hs.idpClk[u.name], hs.idps[u.name] = c, idp
		ups = append(ups, Upstream{Name: u.name, Issuer: idp.Issuer, ClientID: idp.ClientID(), ClientSecret: u.secret, AuthMethod: u.method})
	}
	hs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hs.handler.ServeHTTP(w, r) }))
	t.Cleanup(hs.srv.Close)
	hs.issuer = hs.srv.URL + o.path
	hs.keys = newKeys(t)
	if o.store == nil {
		o.store = sessions.NewMemoryStore
	}
	hs.store = o.store(hs.clk.Now)
	h, err := New(context.Background(), Config{
		Issuer: hs.issuer, Lifetime: 15 * time.Minute, MaxAuthAge: 5 * time.Minute,
		Keys: hs.keys, Store: hs.store, Upstreams: ups, Now: hs.clk.Now,
		Log: slog.New(slog.NewTextHandler(hs.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs.h, hs.handler = h, h
	return hs
}

// newKeys writes a new P-256 session key and loads it.
func newKeys(t testing.TB) *sessions.Keys {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "session-key.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := sessions.LoadKeys([]string{file})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func newDPoPKey(t testing.TB) *dpop.Key {
	t.Helper()
	k, err := dpop.Generate("ES256")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

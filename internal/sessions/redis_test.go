package sessions

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

const password = "s3cret-Pa55"

func TestRedisKeys(t *testing.T) {
	mr := miniredis.RunT(t)
	clk := newClock()
	s := openT(t, "redis://"+mr.Addr()+"/0", clk)
	ctx := t.Context()
	must(t, s.RevokeSession(ctx, "s1", clk.Now().Add(time.Hour)))
	must(t, s.RevokeSubject(ctx, "u_1", clk.Now()))
	second(s.UseOnce(ctx, "jkt:jti", 90*time.Second))
	for _, k := range mr.Keys() {
		if !strings.HasPrefix(k, "sesame-broker:") {
			t.Errorf("key %q lacks the prefix", k)
		}
	}
	for key, want := range map[string]time.Duration{
		"sesame-broker:revoked:s1":   time.Hour,
		"sesame-broker:once:jkt:jti": 90 * time.Second,
		"sesame-broker:valid-after":  0, // kept for good
	} {
		if !mr.Exists(key) {
			t.Errorf("no key %s; keys: %q", key, mr.Keys())
		}
		if got := mr.TTL(key); got != want {
			t.Errorf("TTL(%s) = %s, want %s", key, got, want)
		}
	}
	if score, err := mr.ZScore("sesame-broker:valid-after", "u_1"); err != nil || int64(score) != clk.Now().UnixMilli() {
		t.Errorf("valid-after of u_1 = %v, %v", score, err)
	}
}

// When Redis dies, every call fails, closed, quickly, saying which Redis
// is unreachable and never its password.
func TestRedisDown(t *testing.T) {
	srv := startRedis(t, "--requirepass", password)
	clk := newClock()
	s := openT(t, "redis://:"+password+"@"+srv.Addr+"/0", clk)
	ctx := t.Context()
	must(t, s.RevokeSession(ctx, "s1", clk.Now().Add(time.Hour)))
	wantRevoked(t, s, "s1", "u_1", clk.Now(), true)

	srv.Kill()
	checks := map[string]func() error{
		"Revoked":       func() error { return second(s.Revoked(ctx, "s1", "u_1", clk.Now())) },
		"UseOnce":       func() error { return second(s.UseOnce(ctx, "jkt:jti", time.Minute)) },
		"RevokeSession": func() error { return s.RevokeSession(ctx, "s2", clk.Now().Add(time.Hour)) },
		"RevokeSubject": func() error { return s.RevokeSubject(ctx, "u_1", clk.Now()) },
		"Ping":          func() error { return s.Ping(ctx) },
	}
	for name, call := range checks {
		start := time.Now()
		err := call()
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s took %s to fail", name, took)
		}
		wantUnreachable(t, name, err, srv.Addr)
	}
	if ok, err := s.Revoked(ctx, "s1", "u_1", clk.Now()); ok || err == nil {
		t.Errorf("Revoked = %v, %v: a caller must see an error", ok, err)
	}
	if ok, err := s.UseOnce(ctx, "fresh", time.Minute); ok || err == nil {
		t.Errorf("UseOnce = %v, %v: a caller must see an error", ok, err)
	}
}

func wantUnreachable(t *testing.T, what string, err error, addr string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: no error", what)
	case !errors.Is(err, ErrStoreUnavailable):
		t.Errorf("%s: %v does not wrap ErrStoreUnavailable", what, err)
	case !strings.Contains(err.Error(), "Redis at "+addr+" is unreachable"):
		t.Errorf("%s: %q does not say Redis at %s is unreachable", what, err, addr)
	case strings.Contains(err.Error(), password):
		t.Errorf("%s: %q shows the password", what, err)
	}
}

func TestOpenStoreUnreachable(t *testing.T) {
	addr := "127.0.0.1:" + freePort(t)
	start := time.Now()
	_, err := OpenStore(t.Context(), "redis://user:"+password+"@"+addr+"/0", nil)
	wantUnreachable(t, "OpenStore", err, addr)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %s", took)
	}
}

// A Redis that accepts connections but never answers is given up on
// after the short timeouts, not go-redis's default 5 s and 3 retries.
func TestOpenStoreSilentRedis(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	start := time.Now()
	_, err = OpenStore(t.Context(), "redis://:"+password+"@"+l.Addr().String()+"/0", nil)
	wantUnreachable(t, "OpenStore", err, l.Addr().String())
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("took %s to give up", took)
	}
}

func TestOpenStoreWrongPassword(t *testing.T) {
	srv := startRedis(t, "--requirepass", "the-right-one")
	_, err := OpenStore(t.Context(), "redis://:"+password+"@"+srv.Addr+"/0", nil)
	if err == nil || errors.Is(err, ErrStoreUnavailable) || !strings.Contains(err.Error(), "Redis at "+srv.Addr+" refused") {
		t.Errorf("OpenStore = %v", err)
	}
	if err != nil && strings.Contains(err.Error(), password) {
		t.Errorf("%q shows the password", err)
	}
	s := openT(t, "redis://:the-right-one@"+srv.Addr+"/3", newClock())
	must(t, s.Ping(t.Context()))
}

func TestOpenStoreURLs(t *testing.T) {
	ctx := t.Context()
	s, err := OpenStore(ctx, "memory", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*memoryStore); !ok {
		t.Errorf("memory gives a %T", s)
	}
	for _, bad := range []string{
		"",
		"Memory",
		"postgres://u:" + password + "@db.example/x",
		"redis://u:" + password + "@host:notaport/0",
		"redis://:" + password + "@127.0.0.1:1/notadb",
		"redis://:" + password + "@127.0.0.1:1/0?bogus=" + password,
		"unix://:" + password + "@/run/redis.sock",
		"redis://u:" + password + "@host:6379/0\x7f",
	} {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := OpenStore(ctx, bad, nil)
		cancel()
		if err == nil {
			t.Errorf("%q: opened", bad)
			continue
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("%q: the error %q shows the password", bad, err)
		}
		if !strings.Contains(err.Error(), "session store") {
			t.Errorf("%q: the error %q does not say what it is about", bad, err)
		}
	}
}

// rediss:// speaks TLS, with go-redis's own URL options still honoured.
func TestOpenStoreTLS(t *testing.T) {
	priv := newP256(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	mr, err := miniredis.RunTLS(&tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: priv}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mr.Close)
	if _, err := OpenStore(t.Context(), "rediss://"+mr.Addr()+"/0", nil); err == nil {
		t.Error("trusted a certificate nobody vouches for")
	}
	s := openT(t, "rediss://"+mr.Addr()+"/0?skip_verify=true", newClock())
	wantOnce(t, s, "k", time.Minute, true)
}

package broker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startMain runs Main like the binary does and returns the API's URL, a
// function that sends SIGTERM's equivalent, and the exit code channel.
func startMain(t *testing.T, args []string, getenv func(string) string) (string, context.CancelFunc, <-chan int, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	code := make(chan int, 1)
	go func() { code <- Main(ctx, args, stdout, stderr, getenv) }()
	re := regexp.MustCompile(`"url":"([^"]+)"`)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], cancel, code, stderr
		}
		select {
		case c := <-code:
			t.Fatalf("Main exited %d: %s", c, stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("Main did not start: %s %s", stdout, stderr)
	return "", nil, nil, nil
}

// TestMainDrainsOnShutdown: a request in flight when the signal arrives
// still gets its answer, and Main exits 0.
func TestMainDrainsOnShutdown(t *testing.T) {
	idp := newFakeIdP(t)
	idp.set(func(f *fakeIdP) { f.delay = 300 * time.Millisecond })
	url, stop, code, _ := startMain(t, []string{"--listen", "127.0.0.1:0", "--issuer", idp.issuer(),
		"--client-id", testClientID, "--log-format", "json", "--rate-limit", "0"}, envOf(SecretEnv, testSecret))

	if status, _, _ := get(t, url+"/readyz"); status != 200 {
		t.Fatalf("readyz = %d", status)
	}
	result := make(chan int, 1)
	go func() {
		resp, err := http.Post(url+"/token", "application/x-www-form-urlencoded", strings.NewReader(refreshForm().Encode()))
		if err != nil {
			result <- -1
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond) // the request is now waiting on the provider
	stop()
	if got := <-result; got != 200 {
		t.Errorf("in-flight request got %d, want 200 after draining", got)
	}
	select {
	case c := <-code:
		if c != ExitOK {
			t.Errorf("exit code %d, want 0", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Main did not return after shutdown")
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func TestMainCannotListen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	idp := newFakeIdP(t)
	var stderr strings.Builder
	code := Main(t.Context(), []string{"--listen", ln.Addr().String(), "--issuer", idp.issuer(), "--client-id", "a"},
		&strings.Builder{}, &stderr, envOf(SecretEnv, "s"))
	if code != ExitError || !strings.Contains(stderr.String(), "listen on") {
		t.Errorf("exit %d, stderr %q; want 1 and the listen error", code, stderr.String())
	}
}

func TestPlainHTTPWarning(t *testing.T) {
	idp := newFakeIdP(t)
	for _, tt := range []struct {
		listen string
		warn   bool
	}{{"127.0.0.1:0", false}, {"0.0.0.0:0", true}} {
		cfg := testConfig(idp)
		cfg.Listen = tt.listen
		logs, stderr := &syncBuffer{}, &syncBuffer{}
		log, _ := NewLogger(logs, "text", "info")
		srv, err := Start(t.Context(), cfg, Options{Logger: log, Stderr: stderr})
		if err != nil {
			t.Fatal(err)
		}
		srv.Close()
		warned := strings.Contains(stderr.String(), "WARNING: serving plain HTTP") && strings.Contains(logs.String(), "level=WARN")
		if warned != tt.warn {
			t.Errorf("listen %s: warned %v, want %v (stderr %q)", tt.listen, warned, tt.warn, stderr)
		}
	}
}

func TestTLS(t *testing.T) {
	certPEM, keyPEM, pool := selfSigned(t)
	idp := newFakeIdP(t)
	cfg := testConfig(idp)
	cfg.TLSCert, cfg.TLSKey = writeFile(t, "cert.pem", certPEM), writeFile(t, "key.pem", keyPEM)
	cfg.MetricsListen = "127.0.0.1:0"
	srv, err := Start(t.Context(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("URL = %s", srv.URL)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Post(srv.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader(refreshForm().Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if readBody(t, resp); resp.StatusCode != 200 {
		t.Errorf("token over TLS = %d", resp.StatusCode)
	}
	resp, err = hc.Get(srv.MetricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); !strings.Contains(body, `outcome="ok"} 1`) {
		t.Errorf("metrics listener:\n%s", body)
	}

	cfg.TLSKey = cfg.TLSCert // not a key
	if _, err := Start(t.Context(), cfg, Options{}); err == nil || !strings.Contains(err.Error(), "tls_cert") {
		t.Errorf("a bad key pair: %v", err)
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sesame-broker test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})), pool
}

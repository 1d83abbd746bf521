package broker

import (
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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
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
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
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

package sessions

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func TestLoadKeysAndJWKS(t *testing.T) {
	a, b := newP256(t), newP256(t)
	k := mustLoad(t, keyFile(t, a), keyFile(t, b))
	if len(k.Warnings()) != 0 {
		t.Errorf("warnings for 0600 files: %q", k.Warnings())
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(k.JWKS(), &set); err != nil {
		t.Fatalf("JWKS is not JSON: %v", err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want 2 in configured order", len(set.Keys))
	}
	for i, priv := range []*ecdsa.PrivateKey{a, b} {
		m := set.Keys[i]
		want := map[string]bool{"kty": true, "crv": true, "x": true, "y": true, "kid": true, "alg": true, "use": true}
		for name := range m {
			if !want[name] {
				t.Errorf("key %d has member %q: a public JWKS carries %v only", i, name, want)
			}
		}
		if m["kty"] != "EC" || m["crv"] != "P-256" || m["alg"] != "ES256" || m["use"] != "sig" {
			t.Errorf("key %d = %v", i, m)
		}
		// go-jose computes the RFC 7638 thumbprint independently.
		jwk := jose.JSONWebKey{Key: &priv.PublicKey}
		tp, err := jwk.Thumbprint(crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if want := base64.RawURLEncoding.EncodeToString(tp); m["kid"] != want {
			t.Errorf("key %d kid = %v, want the thumbprint %s", i, m["kid"], want)
		}
	}
	var parsed jose.JSONWebKeySet
	if err := json.Unmarshal(k.JWKS(), &parsed); err != nil {
		t.Fatalf("go-jose cannot read the JWKS: %v", err)
	}
	if pub, ok := parsed.Keys[0].Key.(*ecdsa.PublicKey); !ok || !pub.Equal(&a.PublicKey) {
		t.Errorf("the JWKS's first key is %T, not the first file's public key", parsed.Keys[0].Key)
	}
	if bytes.Contains(k.JWKS(), []byte(`"d"`)) {
		t.Error("the JWKS carries a private member")
	}
}

func TestLoadKeysRefusals(t *testing.T) {
	p256 := newP256(t)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(p256)
	pkcs1 := x509.MarshalPKCS1PrivateKey(rsaKey)
	pub, _ := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	good := keyFile(t, p256)
	goodPEM, _ := os.ReadFile(good)
	missing := filepath.Join(t.TempDir(), "nope.pem")

	tests := []struct {
		name  string
		files []string
		want  []string // substrings of the error
	}{
		{"no files", nil, []string{"no session signing key", "openssl genpkey"}},
		{"missing file", []string{missing}, []string{missing}},
		{"RSA PKCS#8", []string{keyFile(t, rsaKey)}, []string{"RSA key (2048 bits)", "P-256", "openssl genpkey"}},
		{"P-384", []string{keyFile(t, p384)}, []string{"EC key on P-384", "needs P-256"}},
		{"Ed25519", []string{keyFile(t, edKey)}, []string{"Ed25519 key"}},
		{"SEC1", []string{writePEM(t, "EC PRIVATE KEY", sec1, 0o600)}, []string{`SEC 1 "EC PRIVATE KEY"`, "openssl pkcs8 -topk8 -nocrypt -in "}},
		{"PKCS#1 RSA", []string{writePEM(t, "RSA PRIVATE KEY", pkcs1, 0o600)}, []string{"is an RSA key", "openssl genpkey"}},
		{"encrypted", []string{writePEM(t, "ENCRYPTED PRIVATE KEY", []byte{1, 2}, 0o600)}, []string{"encrypted", "openssl pkcs8 -in"}},
		{"public key", []string{writePEM(t, "PUBLIC KEY", pub, 0o600)}, []string{"holds a public key, not a private key"}},
		{"other block", []string{writePEM(t, "OPENSSH PRIVATE KEY", []byte{1}, 0o600)}, []string{`"OPENSSH PRIVATE KEY" PEM block`}},
		{"not PEM", []string{writeFile(t, []byte("MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n"), 0o600)}, []string{"not a PEM file", "BEGIN PRIVATE KEY"}},
		{"empty file", []string{writeFile(t, nil, 0o600)}, []string{"not a PEM file"}},
		{"damaged DER", []string{writePEM(t, "PRIVATE KEY", []byte("not DER at all"), 0o600)}, []string{"not a valid PKCS#8 private key"}},
		{"two keys in a file", []string{writeFile(t, append(append([]byte{}, goodPEM...), goodPEM...), 0o600)}, []string{"2 PEM blocks", "one key in each file"}},
		{"writable by group", []string{writeFile(t, goodPEM, 0o620)}, []string{"writable by group or others", "chmod go-w"}},
		{"writable by others", []string{writeFile(t, goodPEM, 0o602)}, []string{"writable by group or others"}},
		{"same key twice", []string{good, keyFile(t, p256)}, []string{"is the same key as " + good}},
		{"huge file", []string{writeFile(t, bytes.Repeat([]byte("A"), maxKeyFile+1), 0o600)}, []string{"larger than 64 KiB"}},
		{"second file bad", []string{good, missing}, []string{missing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := LoadKeys(tt.files)
			if err == nil {
				t.Fatalf("LoadKeys accepted it: %d keys", len(k.keys))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if len(tt.files) > 0 && !strings.Contains(err.Error(), tt.files[len(tt.files)-1]) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	if _, err := LoadKeys([]string{missing}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file's error %v does not wrap fs.ErrNotExist", err)
	}
}

// A key file others can read is used, with a warning; one reached through
// a symbolic link (as Kubernetes mounts secrets) is used too.
func TestLoadKeysReadableAndLinked(t *testing.T) {
	path := keyFile(t, newP256(t))
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "linked.pem")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	k := mustLoad(t, link)
	w := k.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], link) || !strings.Contains(w[0], "readable by others (mode 0644)") {
		t.Errorf("warnings = %q", w)
	}
}

// Keys made by openssl as the errors tell: genpkey loads; ecparam's SEC 1
// file is refused, and the conversion the refusal names makes it load.
func TestLoadKeysOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "session-key.pem")
	mustLoad(t, filepath.Join(dir, "session-key.pem"))

	run("ecparam", "-genkey", "-name", "prime256v1", "-out", "sec1.pem")
	sec1 := filepath.Join(dir, "sec1.pem")
	_, err := LoadKeys([]string{sec1})
	if err == nil {
		t.Fatal("a SEC 1 key loaded")
	}
	_, hint, ok := strings.Cut(err.Error(), "convert it with: ")
	if !ok {
		t.Fatalf("error %q names no conversion", err)
	}
	fields := strings.Fields(hint)
	run(fields[1:]...)
	mustLoad(t, filepath.Join(dir, "session-key.pem"))
}

func TestKeyErrorsQuoteNoKey(t *testing.T) {
	der, _ := x509.MarshalECPrivateKey(newP256(t))
	path := writePEM(t, "EC PRIVATE KEY", der, 0o600)
	_, err := LoadKeys([]string{path})
	b64 := base64.StdEncoding.EncodeToString(der)
	if err == nil || strings.Contains(err.Error(), b64[:16]) {
		t.Errorf("error %v", err)
	}
	// The block's type is quoted, bounded.
	path = writeFile(t, pem.EncodeToMemory(&pem.Block{Type: strings.Repeat("X", 200), Bytes: []byte{1}}), 0o600)
	if _, err := LoadKeys([]string{path}); err == nil || strings.Contains(err.Error(), strings.Repeat("X", 41)) {
		t.Errorf("error %v quotes the whole block type", err)
	}
}

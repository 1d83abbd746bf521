package brokercmd

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sessionConfig writes a broker file with a sessions block (memory store,
// a fresh P-256 key) and the given lifetime and store.
func sessionConfig(t *testing.T, lifetime, store string) string {
	t.Helper()
	dir := t.TempDir()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	key := filepath.Join(dir, "key.pem")
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "secret"), []byte("s3cret"), 0o600)
	cfg := "sessions:\n  issuer: https://broker.example\n  signing_key_file: " + key + "\n  lifetime: " + lifetime +
		"\n  store: " + store + "\nclients:\n  - name: main\n    client_id: c\n    issuer: https://idp.example\n    client_secret_file: " +
		filepath.Join(dir, "secret") + "\n"
	path := filepath.Join(dir, "broker.yaml")
	os.WriteFile(path, []byte(cfg), 0o600)
	return path
}

func runCheck(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb, func(string) string { return "" })
	return code, errb.String()
}

// --check validates the sessions block without asking any provider: the
// key, the lifetime bounds and the store.
func TestCheckSessions(t *testing.T) {
	if code, msg := runCheck(t, "--config", sessionConfig(t, "1h", "memory"), "--check"); code != 0 || !strings.Contains(msg, "session mode") {
		t.Fatalf("exit %d: %s", code, msg)
	}
	for _, tc := range []struct{ lifetime, store, want string }{
		{"1m", "memory", "sessions.lifetime"},
		{"400h", "memory", "sessions.lifetime"},
		{"1h", "redis://127.0.0.1:1/0", "sessions.store"},
		{"1h", "postgres://x", "sessions.store"},
	} {
		code, msg := runCheck(t, "--config", sessionConfig(t, tc.lifetime, tc.store), "--check")
		if code != ExitConfig || !strings.Contains(msg, tc.want) {
			t.Errorf("lifetime %s, store %s: exit %d, want 2 naming %s:\n%s", tc.lifetime, tc.store, code, tc.want, msg)
		}
	}
	path := sessionConfig(t, "1h", "memory")
	b, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(b), "key.pem", "missing.pem", 1)), 0o600)
	if code, msg := runCheck(t, "--config", path, "--check"); code != ExitConfig || !strings.Contains(msg, "sessions.signing_key_file") {
		t.Errorf("missing key: exit %d:\n%s", code, msg)
	}
}

// --revoke-subject writes to the store the replicas share; a memory store
// would forget it when the command exits, so it is refused.
func TestRevokeSubjectNeedsASharedStore(t *testing.T) {
	code, msg := runCheck(t, "--config", sessionConfig(t, "1h", "memory"), "--revoke-subject", "u_abc")
	if code != ExitConfig || !strings.Contains(msg, "redis://") {
		t.Fatalf("exit %d:\n%s", code, msg)
	}
}

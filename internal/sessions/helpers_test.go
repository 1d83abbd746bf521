package sessions

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock, safe for the stores' concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newP256(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// writePEM writes one PEM block to a new file in a temporary directory.
func writePEM(t testing.TB, blockType string, der []byte, mode os.FileMode) string {
	t.Helper()
	return writeFile(t, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), mode)
}

func writeFile(t testing.TB, data []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

// keyFile writes priv as a PKCS#8 PEM file, mode 0600.
func keyFile(t testing.TB, priv any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, "PRIVATE KEY", der, 0o600)
}

func mustLoad(t testing.TB, files ...string) *Keys {
	t.Helper()
	k, err := LoadKeys(files)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newKeys loads n fresh P-256 keys and returns their files too.
func newKeys(t testing.TB, n int) (*Keys, []string) {
	t.Helper()
	var files []string
	for range n {
		files = append(files, keyFile(t, newP256(t)))
	}
	return mustLoad(t, files...), files
}

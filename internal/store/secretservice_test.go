package store

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// TestSecretService runs against a real Secret Service (gnome-keyring in the
// end-to-end environment). It is opt-in because it needs a D-Bus session
// with an unlocked keyring.
func TestSecretService(t *testing.T) {
	if os.Getenv("SESAME_TEST_SECRET_SERVICE") != "1" {
		t.Skip("set SESAME_TEST_SECRET_SERVICE=1 with a running, unlocked Secret Service")
	}
	var b [6]byte
	rand.Read(b[:])
	service := "sesame-test-" + hex.EncodeToString(b[:])
	k := NewKeychain(KeychainOptions{Service: service})
	const key = "work/resource/3f2a"
	t.Cleanup(func() { keyring.DeleteAll(service) })

	want := pattern(16<<10, 9)
	start := time.Now()
	if err := k.Set(key, want); err != nil {
		t.Fatalf("Set: %v", err)
	}
	t.Logf("Set of %d bytes took %v", len(want), time.Since(start))

	head, err := keyring.Get(service, key)
	if err != nil {
		t.Fatalf("raw read of the head entry: %v", err)
	}
	if isHeader(head) {
		t.Errorf("16 KiB was chunked; expected one entry with the default chunk size")
	}
	t.Logf("stored as one entry of %d bytes", len(head))

	for i := 0; i < 3; i++ {
		start = time.Now()
		got, err := k.Get(key)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		t.Logf("Get took %v", time.Since(start))
		if !bytes.Equal(got, want) {
			t.Fatalf("Get returned different bytes")
		}
	}

	// The chunked path against the real service too.
	small := NewKeychain(KeychainOptions{Service: service, ChunkSize: 2048})
	if err := small.Set(key, want); err != nil {
		t.Fatalf("chunked Set: %v", err)
	}
	start = time.Now()
	got, err := small.Get(key)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("chunked Get: %d bytes, %v", len(got), err)
	}
	t.Logf("chunked Get (head + 11 chunks) took %v", time.Since(start))

	if err := k.Delete(key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get(key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
}

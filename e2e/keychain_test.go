package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/sesame-cli/sesame/internal/store"
)

// The keychain store against the real Secret Service: a 16 KiB value (a
// large token set) round-trips in one entry, and the chunked format works
// there too. It lives here, not in internal/store, because those tests
// replace go-keyring's backend with keyring.MockInit for the whole binary.
func TestKeychainLargeValues(t *testing.T) {
	requireE2E(t)
	var b [6]byte
	rand.Read(b[:])
	service := "sesame-test-" + hex.EncodeToString(b[:])
	t.Cleanup(func() { keyring.DeleteAll(service) })
	const key = "work/resource/3f2a"
	want := bytes.Repeat([]byte("0123456789abcdef"), 1024) // 16 KiB

	k := store.NewKeychain(store.KeychainOptions{Service: service})
	if err := k.Set(key, want); err != nil {
		t.Fatalf("Set: %v", err)
	}
	head, err := keyring.Get(service, key)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(head, "sesame-chunked/") {
		t.Error("16 KiB was split; the Secret Service takes it in one entry")
	}
	if got, err := k.Get(key); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Get: %d bytes, %v", len(got), err)
	}

	// The chunk size Windows needs, against the real service.
	small := store.NewKeychain(store.KeychainOptions{Service: service, ChunkSize: 2560})
	if err := small.Set(key, want); err != nil {
		t.Fatalf("chunked Set: %v", err)
	}
	if head, _ := keyring.Get(service, key); !strings.HasPrefix(head, "sesame-chunked/") {
		t.Error("value was not chunked at 2,560 bytes per entry")
	}
	if got, err := k.Get(key); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("chunked Get: %d bytes, %v", len(got), err)
	}
	if err := k.Delete(key); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get after Delete = %v", err)
	}
}

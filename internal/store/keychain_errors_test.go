package store

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

func TestKeychainTimeout(t *testing.T) {
	ops := map[string]func(k *Keychain) error{
		"Get":    func(k *Keychain) error { _, err := k.Get("default"); return err },
		"Set":    func(k *Keychain) error { return k.Set("default", []byte("v")) },
		"Delete": func(k *Keychain) error { return k.Delete("default") },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.block = make(chan struct{})
			t.Cleanup(func() { close(f.block) }) // release the abandoned call
			k := NewKeychain(KeychainOptions{Timeout: 50 * time.Millisecond, keyring: f})
			err := op(k)
			var te *TimeoutError
			if !errors.As(err, &te) {
				t.Fatalf("%s = %v, want *TimeoutError", name, err)
			}
			if te.After != 50*time.Millisecond {
				t.Errorf("After = %v", te.After)
			}
			for _, want := range []string{"did not answer within 50ms", "locked"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestKeychainUnavailable(t *testing.T) {
	cause := errors.New("The name org.freedesktop.secrets was not provided by any .service files")
	f := newFake()
	f.err = cause
	k := newTestKeychain(t, f, 0)
	_, getErr := k.Get("default")
	errs := map[string]error{
		"Get":    getErr,
		"Set":    k.Set("default", []byte("v")),
		"Delete": k.Delete("default"),
	}
	for name, err := range errs {
		var ue *UnavailableError
		if !errors.As(err, &ue) || !errors.Is(err, cause) {
			t.Errorf("%s = %v, want *UnavailableError wrapping the cause", name, err)
			continue
		}
		msg := err.Error()
		for _, want := range []string{"OS keychain is not available", cause.Error(), "--insecure-storage", `"storage: file"`} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s message %q lacks %q", name, msg, want)
			}
		}
		if errors.Is(err, ErrNotFound) {
			t.Errorf("%s: an unavailable keychain must not look like a missing value", name)
		}
	}
}

func TestKeychainNotFoundAndDelete(t *testing.T) {
	f := newFake()
	k := newTestKeychain(t, f, 1000)
	if _, err := k.Get("default"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing key = %v, want ErrNotFound", err)
	}
	if err := k.Delete("default"); err != nil {
		t.Fatalf("Delete of a missing key = %v", err)
	}
	if err := k.Set("default", pattern(5000, 1)); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete("default"); err != nil {
		t.Fatal(err)
	}
	if got := f.users(); len(got) != 0 {
		t.Errorf("entries after Delete = %v, want none", got)
	}
	if _, err := k.Get("default"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := k.Delete("default"); err != nil {
		t.Errorf("second Delete = %v", err)
	}
}

func TestKeychainRejectsReservedKeys(t *testing.T) {
	k := newTestKeychain(t, newFake(), 0)
	for _, key := range []string{"", "a#b"} {
		if err := k.Set(key, []byte("v")); err == nil {
			t.Errorf("Set(%q) succeeded", key)
		}
		if _, err := k.Get(key); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, want a key error", key, err)
		}
	}
}

func TestKeychainDefaults(t *testing.T) {
	k := NewKeychain(KeychainOptions{})
	if k.service != "sesame" || k.timeout != 10*time.Second || k.Backend() != "keychain" {
		t.Errorf("defaults: service %q, timeout %v, backend %q", k.service, k.timeout, k.Backend())
	}
	for goos, max := range map[string]int{"windows": 2560, "darwin": 2560, "linux": 1 << 30} {
		if n := DefaultChunkSize(goos); n < minChunkSize || n > max {
			t.Errorf("DefaultChunkSize(%s) = %d", goos, n)
		}
	}
	if DefaultChunkSize("linux") < 64<<10 {
		t.Errorf("Linux should keep realistic token sets in one entry")
	}
}

// The default keyringAPI goes through go-keyring's package functions, which
// keyring.MockInit replaces; higher layers rely on that in their tests.
func TestKeychainWithGoKeyringMock(t *testing.T) {
	keyring.MockInit()
	k := NewKeychain(KeychainOptions{ChunkSize: 1000})
	for _, size := range []int{10, 5000} {
		want := pattern(size, 4)
		if err := k.Set("default", want); err != nil {
			t.Fatal(err)
		}
		got, err := k.Get("default")
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("size %d: Get = %d bytes, %v", size, len(got), err)
		}
	}
	if err := k.Delete("default"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get("default"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}

	keyring.MockInitWithError(errors.New("no D-Bus session"))
	var ue *UnavailableError
	if _, err := k.Get("default"); !errors.As(err, &ue) {
		t.Fatalf("Get with a failing keyring = %v, want *UnavailableError", err)
	}
}

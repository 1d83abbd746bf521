package store

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/zalando/go-keyring"
)

var errInjected = errors.New("injected failure")

// fakeKeyring is an in-memory keyringAPI with the failure modes of the real
// backends.
type fakeKeyring struct {
	mu    sync.Mutex
	items map[string]string // service + "\x00" + user

	// tooBig mimics a backend's size limit; nil accepts everything.
	tooBig func(service, user, secret string) bool
	// failSetAt makes the Nth Set (1-based) fail with errInjected.
	failSetAt int
	// err is returned by every call, like an unreachable Secret Service.
	err error
	// block, when non-nil, holds every call until it is closed.
	block chan struct{}
	// onGet runs before a Get is answered, outside the lock.
	onGet func(user string)

	sets, gets, deletes int
	// refused counts writes refused by tooBig.
	refused int
}

func newFake() *fakeKeyring { return &fakeKeyring{items: map[string]string{}} }

// windowsTooBig is go-keyring's Windows check (CRED_MAX_CREDENTIAL_BLOB_SIZE).
func windowsTooBig(_, _, secret string) bool { return len(secret) > 2560 }

// darwinTooBig is go-keyring's macOS check: the re-encoded secret goes into
// one `security -i` command line of at most 4096 bytes.
func darwinTooBig(service, user, secret string) bool {
	pw := "go-keyring-base64:" + base64.StdEncoding.EncodeToString([]byte(secret))
	cmd := fmt.Sprintf("add-generic-password -U -s %s -a %s -w %s\n", service, user, pw)
	return len(cmd) > 4096
}

// flatTooBig refuses anything over n bytes, like a keychain stricter than
// the chunk size assumed.
func flatTooBig(n int) func(string, string, string) bool {
	return func(_, _, secret string) bool { return len(secret) > n }
}

func (f *fakeKeyring) wait() {
	if f.block != nil {
		<-f.block
	}
}

func (f *fakeKeyring) Get(service, user string) (string, error) {
	f.wait()
	if f.onGet != nil {
		f.onGet(user)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	if f.err != nil {
		return "", f.err
	}
	v, ok := f.items[service+"\x00"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeKeyring) Set(service, user, secret string) error {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets++
	if f.err != nil {
		return f.err
	}
	if f.failSetAt > 0 && f.sets == f.failSetAt {
		return errInjected
	}
	if f.tooBig != nil && f.tooBig(service, user, secret) {
		f.refused++
		return keyring.ErrSetDataTooBig
	}
	f.items[service+"\x00"+user] = secret
	return nil
}

func (f *fakeKeyring) Delete(service, user string) error {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletes++
	if f.err != nil {
		return f.err
	}
	k := service + "\x00" + user
	if _, ok := f.items[k]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.items, k)
	return nil
}

// users lists the stored entry names, sorted.
func (f *fakeKeyring) users() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.items {
		out = append(out, k[strings.IndexByte(k, 0)+1:])
	}
	sort.Strings(out)
	return out
}

func (f *fakeKeyring) raw(user string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.items[DefaultService+"\x00"+user]
}

func (f *fakeKeyring) put(user, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[DefaultService+"\x00"+user] = secret
}

func (f *fakeKeyring) resetCounts() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets, f.gets, f.deletes = 0, 0, 0
}

func newTestKeychain(t *testing.T, f *fakeKeyring, chunkSize int) *Keychain {
	t.Helper()
	return NewKeychain(KeychainOptions{ChunkSize: chunkSize, keyring: f})
}

// pattern returns n bytes covering every byte value, so invalid UTF-8, NUL
// and whitespace all appear.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

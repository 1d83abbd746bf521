package store

import (
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

const (
	// DefaultService is the keychain service name every entry is filed under.
	DefaultService = "sesame"
	// DefaultTimeout bounds each keychain call; see TimeoutError.
	DefaultTimeout = 10 * time.Second
	// minChunkSize is where halving the chunk size after ErrSetDataTooBig
	// stops: below it the entry name itself is what does not fit.
	minChunkSize = 256
	// readAttempts bounds how often Get restarts after a concurrent Set
	// replaced the value between reading the header and its chunks.
	readAttempts = 3
)

// KeychainOptions configures NewKeychain. Zero fields take their defaults.
type KeychainOptions struct {
	// Service is the keychain service name; tests use their own.
	Service string
	// Timeout bounds every single keychain call.
	Timeout time.Duration
	// ChunkSize is the largest string written to one keychain entry.
	// It defaults to DefaultChunkSize(runtime.GOOS).
	ChunkSize int
	// LeanRead lets Get try a lean Secret Service read before go-keyring's
	// on Linux (secretservice_linux.go). Opt-in: `sesame token`'s fast path
	// sets it; a test that swaps go-keyring for keyring.MockInit must not
	// reach the real keychain behind the mock's back.
	LeanRead bool

	// keyring replaces go-keyring in tests.
	keyring keyringAPI
}

// DefaultChunkSize is the largest string written to one keychain entry on goos.
//
// Windows Credential Manager refuses blobs over CRED_MAX_CREDENTIAL_BLOB_SIZE
// (2560 bytes), and go-keyring checks exactly that. go-keyring on macOS
// base64-encodes the secret again and pipes one `security -i` command that
// must stay under 4096 bytes, so 2048 leaves room for that expansion and for
// long entry names. Secret Service has no hard limit, so other systems use
// one entry for any realistic token set.
func DefaultChunkSize(goos string) int {
	switch goos {
	case "windows":
		return 2560
	case "darwin":
		return 2048
	default:
		return 256 << 10
	}
}

// Keychain stores values in the OS keychain, splitting values larger than
// one entry allows into chunks (format described in format.go).
type Keychain struct {
	service   string
	timeout   time.Duration
	chunkSize int
	kr        keyringAPI
	// fast, when set, is a lean read tried before go-keyring's Get on the
	// read path (secretservice_linux.go); !ok means "use go-keyring".
	fast func(service, user string) (string, bool)
}

var _ Store = (*Keychain)(nil)

// NewKeychain returns a keychain store. It does not touch the keychain;
// an unavailable keychain surfaces as *UnavailableError on first use.
func NewKeychain(opts KeychainOptions) *Keychain {
	k := &Keychain{service: opts.Service, timeout: opts.Timeout, chunkSize: opts.ChunkSize, kr: opts.keyring}
	if k.service == "" {
		k.service = DefaultService
	}
	if k.timeout <= 0 {
		k.timeout = DefaultTimeout
	}
	if k.chunkSize <= 0 {
		k.chunkSize = DefaultChunkSize(runtime.GOOS)
	}
	k.chunkSize = max(k.chunkSize, minChunkSize)
	if k.kr == nil {
		k.kr = goKeyring{}
		if opts.LeanRead {
			k.fast = newFastRead()
		}
	}
	return k
}

// Backend implements Store.
func (k *Keychain) Backend() string { return "keychain" }

// Get implements Store. A direct value costs one keychain read; a chunked
// one costs the head plus its n chunks.
func (k *Keychain) Get(key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	head, err := k.read(key)
	for attempt := 1; ; attempt++ {
		if err != nil {
			return nil, err
		}
		value, derr := k.decode(key, head)
		if !errors.Is(derr, ErrNotFound) {
			return value, derr
		}
		// A chunk is gone. If a concurrent Set replaced the value, the
		// head now names the new generation: read that one instead.
		next, err2 := k.get(key)
		if err2 == nil && (next == head || attempt == readAttempts) {
			return nil, &CorruptError{Key: key, Reason: "a chunk is missing"}
		}
		head, err = next, err2
	}
}

// decode turns a head entry into the value. It returns ErrNotFound (only)
// when a chunk the header names does not exist.
func (k *Keychain) decode(key, head string) ([]byte, error) {
	if !isHeader(head) {
		value, err := base64.StdEncoding.DecodeString(head)
		if err != nil {
			return nil, &CorruptError{Key: key, Reason: "not in the format sesame writes"}
		}
		return value, nil
	}
	h, err := parseHeader(head)
	if err != nil {
		return nil, &CorruptError{Key: key, Reason: err.Error()}
	}
	var enc strings.Builder
	for _, name := range h.chunkNames(key) {
		part, err := k.read(name)
		if err != nil {
			return nil, err
		}
		enc.WriteString(part)
	}
	value, err := base64.StdEncoding.DecodeString(enc.String())
	if err != nil || !h.verify(value) {
		return nil, &CorruptError{Key: key, Reason: "checksum mismatch"}
	}
	return value, nil
}

// Set implements Store. Chunks are written under a fresh generation before
// the head entry, and the head is one keychain write, so until that write
// lands readers keep seeing the previous value. The previous generation's
// chunks are removed afterwards, best-effort.
func (k *Keychain) Set(key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	old, err := k.get(key)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}

	enc := base64.StdEncoding.EncodeToString(value)
	size := k.chunkSize
	for {
		err = k.write(key, enc, value, size)
		// A backend may accept less than DefaultChunkSize assumed (an
		// older macOS, a long entry name): retry with smaller chunks.
		if errors.Is(err, keyring.ErrSetDataTooBig) && size/2 >= minChunkSize {
			size /= 2
			continue
		}
		if err != nil {
			return fmt.Errorf("store %q in the OS keychain: %w", key, err)
		}
		break
	}
	_ = k.deleteChunks(key, old) // best-effort: an orphaned chunk is unreachable
	return nil
}

// write stores enc under key, directly or as chunks of at most size bytes.
func (k *Keychain) write(key, enc string, value []byte, size int) error {
	if len(enc) <= size {
		return k.set(key, enc)
	}
	parts := split(enc, size)
	h := newHeader(value, len(parts))
	names := h.chunkNames(key)
	for i, part := range parts {
		if err := k.set(names[i], part); err != nil {
			k.cleanup(names[:i], err)
			return fmt.Errorf("write chunk %d of %d: %w", i+1, len(parts), err)
		}
	}
	if err := k.set(key, h.String()); err != nil {
		k.cleanup(names, err)
		return fmt.Errorf("write header: %w", err)
	}
	return nil
}

// cleanup removes the chunks of a write that failed with err. After a
// timeout the abandoned call may still complete, possibly the head write
// that makes these chunks live, so they are left alone.
func (k *Keychain) cleanup(names []string, err error) {
	var te *TimeoutError
	if !errors.As(err, &te) {
		k.deleteAll(names)
	}
}

// Delete implements Store. The head goes first, so the value disappears in
// one step; the chunks it named follow.
func (k *Keychain) Delete(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	head, err := k.get(key)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := k.del(key); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("delete %q from the OS keychain: %w", key, err)
	}
	return k.deleteChunks(key, head)
}

// deleteChunks removes the chunks head names. A header too damaged to
// parse (a truncated count or checksum, a future format) may still name its
// generation: its chunks are then deleted in order until one is missing.
// Without even that, nothing names the chunks and they stay, unreachable.
func (k *Keychain) deleteChunks(key, head string) error {
	if !isHeader(head) {
		return nil
	}
	h, err := parseHeader(head)
	damaged := err != nil
	if damaged {
		gen, ok := headerGen(head)
		if !ok {
			return nil
		}
		h = header{gen: gen, n: maxChunks}
	}
	for i := range h.n {
		name := h.chunkName(key, i)
		err := k.del(name)
		if errors.Is(err, ErrNotFound) {
			if damaged {
				return nil
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("delete chunk %q from the OS keychain: %w", name, err)
		}
	}
	return nil
}

func (k *Keychain) deleteAll(names []string) {
	for _, name := range names {
		_ = k.del(name) // best-effort: an orphaned chunk is unreachable
	}
}

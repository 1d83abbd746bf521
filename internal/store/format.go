package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// On-keychain format.
//
// Every value is base64-encoded (RFC 4648 section 4, standard alphabet with
// padding) before it reaches the keychain. go-keyring passes strings, and the
// backends treat them differently: Secret Service labels the bytes as UTF-8
// text, and macOS trims whitespace from what `security` prints. Base64 text
// survives all of them unchanged, whatever bytes the value holds.
//
// A value whose encoding fits in one entry is stored as that encoding under
// the key itself, so the common case costs one keychain read.
//
// A larger value is split across chunk entries named KEY#<gen>.<i>, and the
// entry KEY holds a one-line header:
//
//	sesame-chunked/v1 gen=<16 hex> n=<chunks> sha256=<hex of the raw value>
//
// The header cannot be mistaken for a stored value: it contains '-' and ' ',
// which the standard base64 alphabet never produces. Future formats can use
// the same trick with a different prefix.
const headerPrefix = "sesame-chunked/"

const headerVersion = headerPrefix + "v1"

// maxChunks bounds what a header may claim, so a damaged header cannot make
// a reader issue an unbounded number of keychain calls.
const maxChunks = 4096

type header struct {
	gen string
	n   int
	sum string
}

func newHeader(value []byte, n int) header {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand documentation)
	sum := sha256.Sum256(value)
	return header{gen: hex.EncodeToString(b[:]), n: n, sum: hex.EncodeToString(sum[:])}
}

func (h header) String() string {
	return fmt.Sprintf("%s gen=%s n=%d sha256=%s", headerVersion, h.gen, h.n, h.sum)
}

// chunkName is the keychain user name of chunk i of key in this generation.
// A fresh generation per write means new chunks never overwrite the chunks
// the current header points at.
func (h header) chunkName(key string, i int) string {
	return key + chunkSep + h.gen + "." + strconv.Itoa(i)
}

func (h header) chunkNames(key string) []string {
	names := make([]string, h.n)
	for i := range names {
		names[i] = h.chunkName(key, i)
	}
	return names
}

// verify reports whether value is the one the header was written for.
func (h header) verify(value []byte) bool {
	sum := sha256.Sum256(value)
	return hex.EncodeToString(sum[:]) == h.sum
}

func isHeader(s string) bool { return strings.HasPrefix(s, headerPrefix) }

// parseHeader parses a head entry that isHeader accepted.
func parseHeader(s string) (header, error) {
	f := strings.Fields(s)
	if len(f) == 0 || f[0] != headerVersion {
		return header{}, fmt.Errorf("unsupported format %q", strings.SplitN(s, " ", 2)[0])
	}
	if len(f) != 4 {
		return header{}, fmt.Errorf("malformed header")
	}
	gen, ok1 := strings.CutPrefix(f[1], "gen=")
	n, ok2 := strings.CutPrefix(f[2], "n=")
	sum, ok3 := strings.CutPrefix(f[3], "sha256=")
	if !ok1 || !ok2 || !ok3 || !isHex(gen, 16) || !isHex(sum, 64) {
		return header{}, fmt.Errorf("malformed header")
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 1 || count > maxChunks {
		return header{}, fmt.Errorf("malformed chunk count %q", n)
	}
	return header{gen: gen, n: count, sum: sum}, nil
}

// headerGen finds the generation in a head entry that parseHeader
// rejects, so that the chunks it names can still be deleted.
func headerGen(s string) (string, bool) {
	for _, f := range strings.Fields(s) {
		if gen, ok := strings.CutPrefix(f, "gen="); ok && isHex(gen, 16) {
			return gen, true
		}
	}
	return "", false
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// split cuts s into pieces of at most size bytes. s is base64 text, so any
// cut falls between whole characters.
func split(s string, size int) []string {
	var parts []string
	for len(s) > size {
		parts = append(parts, s[:size])
		s = s[size:]
	}
	return append(parts, s)
}

package verify

import (
	"crypto/sha256"
	"sync"
	"time"
)

// defaultReplayCacheSize bounds the replay cache: about 10 MB, or 1100
// requests a second with the default ProofMaxAge and Leeway.
const defaultReplayCacheSize = 100000

// replayCache remembers the proofs seen (RFC 9449 §11.1) until they are
// too old to be accepted again. Entries are hashes of thumbprint and jti,
// of fixed size whatever a client puts in its jti, and only proofs that
// passed every other check get in.
type replayCache struct {
	mu    sync.Mutex
	seen  map[[32]byte]time.Time // until when each proof is remembered
	order []replayEntry          // in the order they came; expired ones leave from the front
	head  int
}

type replayEntry struct {
	key   [32]byte
	until time.Time
}

// add records a proof, to be remembered until until. It reports whether
// the proof is new, and whether the cache had room for it.
func (c *replayCache) add(jkt, jti string, until, now time.Time, size int) (fresh, room bool) {
	key := sha256.Sum256([]byte(jkt + "\x00" + jti))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = make(map[[32]byte]time.Time)
	}
	if t, ok := c.seen[key]; ok && t.After(now) {
		return false, true
	}
	c.expire(now)
	if len(c.seen) >= size {
		return true, false
	}
	c.seen[key] = until
	c.order = append(c.order, replayEntry{key, until})
	return true, true
}

// expire forgets the entries at the front that have expired. Proofs come
// in roughly in the order of their iat, so the front is the oldest; an
// expired entry behind a younger one waits for it, which errs on the
// safe side.
func (c *replayCache) expire(now time.Time) {
	for c.head < len(c.order) && !c.order[c.head].until.After(now) {
		e := c.order[c.head]
		if c.seen[e.key] == e.until {
			delete(c.seen, e.key)
		}
		c.order[c.head] = replayEntry{}
		c.head++
	}
	if c.head > 1024 && c.head > len(c.order)/2 {
		c.order = append(c.order[:0], c.order[c.head:]...)
		c.head = 0
	}
}

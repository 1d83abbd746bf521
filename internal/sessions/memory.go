package sessions

import (
	"context"
	"sync"
	"time"
)

// sweepEvery is how often a write also drops every expired entry; reads
// ignore expired entries whenever they meet them.
const sweepEvery = time.Minute

// memoryStore is the Store of a single replica.
type memoryStore struct {
	now func() time.Time

	mu        sync.Mutex
	sessions  map[string]time.Time // sid → kept until
	subjects  map[string]int64     // sub → valid after (Unix ms)
	once      map[string]time.Time // key → expiry
	lastSweep time.Time
	closed    bool
}

// NewMemoryStore returns a Store in this process's memory, safe for
// concurrent use, for a broker that runs as one replica: a second replica
// would neither see its revocations nor its used proofs. now is the clock
// entries expire by (time.Now when nil).
func NewMemoryStore(now func() time.Time) Store {
	if now == nil {
		now = time.Now
	}
	return &memoryStore{
		now:      now,
		sessions: map[string]time.Time{},
		subjects: map[string]int64{},
		once:     map[string]time.Time{},
	}
}

func (m *memoryStore) RevokeSession(_ context.Context, sid string, until time.Time) error {
	if err := checkKey("session ID", sid); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrStoreClosed
	}
	now := m.sweep()
	if !until.After(now) {
		return nil // the session is over anyway
	}
	if cur, ok := m.sessions[sid]; !ok || until.After(cur) {
		m.sessions[sid] = until
	}
	return nil
}

func (m *memoryStore) RevokeSubject(_ context.Context, sub string, at time.Time) error {
	if err := checkKey("subject", sub); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrStoreClosed
	}
	if ms := validAfter(at); ms > m.subjects[sub] {
		m.subjects[sub] = ms
	}
	return nil
}

func (m *memoryStore) Revoked(_ context.Context, sid, sub string, issuedAt time.Time) (bool, error) {
	if err := checkKey("session ID", sid); err != nil {
		return false, err
	}
	if err := checkKey("subject", sub); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, ErrStoreClosed
	}
	if until, ok := m.sessions[sid]; ok && until.After(m.now()) {
		return true, nil
	}
	if ms, ok := m.subjects[sub]; ok && revokedAt(issuedAt, ms) {
		return true, nil
	}
	return false, nil
}

func (m *memoryStore) UseOnce(_ context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkKey("key", key); err != nil {
		return false, err
	}
	if ttl <= 0 {
		return false, errTTL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, ErrStoreClosed
	}
	now := m.sweep()
	if exp, ok := m.once[key]; ok && exp.After(now) {
		return false, nil
	}
	m.once[key] = now.Add(ttl)
	return true, nil
}

func (m *memoryStore) Ping(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrStoreClosed
	}
	return nil
}

func (m *memoryStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.sessions, m.subjects, m.once = nil, nil, nil
	return nil
}

// sweep drops expired entries at most once per sweepEvery and returns the
// time now. The caller holds mu.
func (m *memoryStore) sweep() time.Time {
	now := m.now()
	if d := now.Sub(m.lastSweep); d >= 0 && d < sweepEvery { // a clock set back sweeps at once
		return now
	}
	m.lastSweep = now
	for k, until := range m.sessions {
		if !until.After(now) {
			delete(m.sessions, k)
		}
	}
	for k, exp := range m.once {
		if !exp.After(now) {
			delete(m.once, k)
		}
	}
	return now
}

// size counts the entries kept, for tests of the sweep.
func (m *memoryStore) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions) + len(m.subjects) + len(m.once)
}

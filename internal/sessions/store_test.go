package sessions

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// replicas are two Stores over one backend, as two broker replicas see
// it, a clock they share, and a way to let time pass for the backend too.
type replicas struct {
	a, b    Store
	clk     *clock
	advance func(time.Duration)
}

type backend struct {
	name string
	open func(t *testing.T) replicas
}

var backends = []backend{
	{"memory", func(t *testing.T) replicas {
		clk := newClock()
		s := NewMemoryStore(clk.Now) // one replica: both are the same store
		return replicas{a: s, b: s, clk: clk, advance: clk.Add}
	}},
	{"miniredis", func(t *testing.T) replicas {
		mr := miniredis.RunT(t)
		clk := newClock()
		return replicas{
			a: openT(t, "redis://"+mr.Addr()+"/0", clk), b: openT(t, "redis://"+mr.Addr()+"/0", clk), clk: clk,
			advance: func(d time.Duration) { clk.Add(d); mr.FastForward(d) },
		}
	}},
	{"redis-server", func(t *testing.T) replicas {
		srv := startRedis(t)
		clk := newClock()
		return replicas{
			a: openT(t, "redis://"+srv.Addr+"/0", clk), b: openT(t, "redis://"+srv.Addr+"/0", clk), clk: clk,
			advance: func(d time.Duration) { clk.Add(d); time.Sleep(d) },
		}
	}},
}

func openT(t *testing.T, url string, clk *clock) Store {
	t.Helper()
	s, err := OpenStore(t.Context(), url, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// storeCases is the contract every Store keeps.
var storeCases = map[string]func(t *testing.T, r replicas){
	"revoke session, seen by the other replica": func(t *testing.T, r replicas) {
		ctx := t.Context()
		now := r.clk.Now()
		wantRevoked(t, r.b, "s1", "u_1", now, false)
		must(t, r.a.RevokeSession(ctx, "s1", now.Add(time.Hour)))
		wantRevoked(t, r.b, "s1", "u_1", now, true)
		wantRevoked(t, r.a, "s1", "u_1", now, true)
		wantRevoked(t, r.b, "s2", "u_1", now, false)
	},
	"revoked session forgotten after until": func(t *testing.T, r replicas) {
		now := r.clk.Now()
		must(t, r.a.RevokeSession(t.Context(), "s1", now.Add(200*time.Millisecond)))
		must(t, r.a.RevokeSession(t.Context(), "past", now.Add(-time.Second)))
		wantRevoked(t, r.b, "s1", "u_1", now, true)
		wantRevoked(t, r.b, "past", "u_1", now, false)
		r.advance(300 * time.Millisecond)
		wantRevoked(t, r.b, "s1", "u_1", now, false)
	},
	"the later until wins": func(t *testing.T, r replicas) {
		now := r.clk.Now()
		must(t, r.a.RevokeSession(t.Context(), "s1", now.Add(time.Hour)))
		must(t, r.b.RevokeSession(t.Context(), "s1", now.Add(100*time.Millisecond)))
		r.advance(200 * time.Millisecond)
		wantRevoked(t, r.a, "s1", "u_1", now, true)
	},
	"revoke subject: valid after": func(t *testing.T, r replicas) {
		at := r.clk.Now()
		must(t, r.a.RevokeSubject(t.Context(), "u_1", at))
		wantRevoked(t, r.b, "s1", "u_1", at.Add(-time.Hour), true)
		wantRevoked(t, r.b, "s1", "u_1", at, true)
		wantRevoked(t, r.b, "s1", "u_1", at.Add(time.Second), false)
		wantRevoked(t, r.b, "s1", "u_2", at.Add(-time.Hour), false)
		// Rounded up to the millisecond: never un-revokes.
		must(t, r.a.RevokeSubject(t.Context(), "u_3", at.Add(500*time.Microsecond)))
		wantRevoked(t, r.b, "s1", "u_3", at.Add(900*time.Microsecond), true)
		wantRevoked(t, r.b, "s1", "u_3", at.Add(2*time.Millisecond), false)
		// An earlier revocation does not lower a later one.
		must(t, r.b.RevokeSubject(t.Context(), "u_1", at.Add(-time.Hour)))
		wantRevoked(t, r.a, "s1", "u_1", at.Add(-time.Minute), true)
		// A later one raises it, and stays after time passes.
		must(t, r.b.RevokeSubject(t.Context(), "u_1", at.Add(time.Minute)))
		r.advance(100 * time.Millisecond)
		wantRevoked(t, r.a, "s1", "u_1", at.Add(time.Second), true)
		wantRevoked(t, r.a, "s1", "u_1", at.Add(2*time.Minute), false)
	},
	"use once": func(t *testing.T, r replicas) {
		ctx := t.Context()
		wantOnce(t, r.a, "jkt:jti-1", time.Second, true)
		wantOnce(t, r.a, "jkt:jti-1", time.Second, false)
		wantOnce(t, r.b, "jkt:jti-1", time.Second, false)
		wantOnce(t, r.b, "jkt:jti-2", time.Second, true)
		wantOnce(t, r.b, "jkt:short", 150*time.Millisecond, true)
		r.advance(250 * time.Millisecond)
		wantOnce(t, r.a, "jkt:short", time.Second, true)
		wantOnce(t, r.a, "jkt:jti-1", time.Second, false)
		if _, err := r.a.UseOnce(ctx, "k", 0); err == nil {
			t.Error("UseOnce took a ttl of 0")
		}
	},
	"use once under contention": func(t *testing.T, r replicas) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		firsts := 0
		for i := range 16 {
			s := r.a
			if i%2 == 1 {
				s = r.b
			}
			wg.Go(func() {
				ok, err := s.UseOnce(t.Context(), "race", time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					firsts++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if firsts != 1 {
			t.Errorf("%d callers were first", firsts)
		}
	},
	"bad keys": func(t *testing.T, r replicas) {
		ctx, now, long := t.Context(), r.clk.Now(), strings.Repeat("k", MaxKey+1)
		for name, err := range map[string]error{
			"empty sid":  r.a.RevokeSession(ctx, "", now.Add(time.Hour)),
			"empty sub":  r.a.RevokeSubject(ctx, "", now),
			"long sid":   r.a.RevokeSession(ctx, long, now.Add(time.Hour)),
			"long key":   second(r.a.UseOnce(ctx, long, time.Minute)),
			"empty key":  second(r.a.UseOnce(ctx, "", time.Minute)),
			"check none": second(r.a.Revoked(ctx, "", "u_1", now)),
		} {
			if err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	},
	"ping and close": func(t *testing.T, r replicas) {
		must(t, r.a.Ping(t.Context()))
		must(t, r.a.Close())
		if err := r.a.Ping(t.Context()); !errors.Is(err, ErrStoreClosed) {
			t.Errorf("Ping after Close = %v", err)
		}
		if _, err := r.a.Revoked(t.Context(), "s", "u", r.clk.Now()); !errors.Is(err, ErrStoreClosed) {
			t.Errorf("Revoked after Close = %v", err)
		}
	},
}

func TestStoreContract(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			for name, test := range storeCases {
				t.Run(name, func(t *testing.T) { test(t, be.open(t)) })
			}
		})
	}
}

func wantRevoked(t *testing.T, s Store, sid, sub string, issuedAt time.Time, want bool) {
	t.Helper()
	got, err := s.Revoked(context.Background(), sid, sub, issuedAt)
	if err != nil || got != want {
		t.Errorf("Revoked(%s, %s, %s) = %v, %v; want %v", sid, sub, issuedAt.Format(time.RFC3339Nano), got, err, want)
	}
}

func wantOnce(t *testing.T, s Store, key string, ttl time.Duration, want bool) {
	t.Helper()
	got, err := s.UseOnce(context.Background(), key, ttl)
	if err != nil || got != want {
		t.Errorf("UseOnce(%s) = %v, %v; want %v", key, got, err, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func second[T any](_ T, err error) error { return err }

// The memory store forgets expired entries as time passes, without reads.
func TestMemoryStoreSweeps(t *testing.T) {
	clk := newClock()
	s := NewMemoryStore(clk.Now).(*memoryStore)
	ctx := t.Context()
	for _, id := range []string{"a", "b", "c"} {
		must(t, s.RevokeSession(ctx, id, clk.Now().Add(time.Minute)))
		second(s.UseOnce(ctx, id, time.Minute))
	}
	must(t, s.RevokeSubject(ctx, "u_1", clk.Now()))
	if n := s.size(); n != 7 {
		t.Fatalf("%d entries, want 7", n)
	}
	clk.Add(2 * time.Minute)
	second(s.UseOnce(ctx, "d", time.Minute))
	if n := s.size(); n != 2 { // u_1 (kept for good) and d
		t.Errorf("%d entries after the sweep, want 2", n)
	}
}

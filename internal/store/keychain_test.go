package store

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"
)

var roundTripSizes = []int{0, 1, 100, 1919, 1920, 1921, 2559, 2560, 2561, 3000, 8 << 10, 16 << 10, 64 << 10}

func TestKeychainRoundTrip(t *testing.T) {
	backends := []struct {
		name      string
		chunkSize int
		tooBig    func(service, user, secret string) bool
		// retries says whether writes may be refused and retried; the
		// default chunk sizes must fit the first time.
		retries bool
	}{
		{"windows", DefaultChunkSize("windows"), windowsTooBig, false},
		{"darwin", DefaultChunkSize("darwin"), darwinTooBig, false},
		// The chunk size assumed is too large: every oversized write must
		// be retried with smaller chunks.
		{"darwin stricter than assumed", 4096, flatTooBig(2200), true},
		{"linux", DefaultChunkSize("linux"), nil, false},
	}
	for _, b := range backends {
		for _, size := range roundTripSizes {
			t.Run(fmt.Sprintf("%s/%d", b.name, size), func(t *testing.T) {
				f := newFake()
				f.tooBig = b.tooBig
				k := newTestKeychain(t, f, b.chunkSize)
				want := pattern(size, 3)
				if err := k.Set("work/resource/3f2a", want); err != nil {
					t.Fatalf("Set: %v", err)
				}
				got, err := k.Get("work/resource/3f2a")
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("Get returned %d bytes that differ from the %d stored", len(got), len(want))
				}
				if f.refused > 0 && !b.retries {
					t.Errorf("%d writes were refused as too big", f.refused)
				}
			})
		}
	}
}

func TestKeychainSmallValueIsOneEntry(t *testing.T) {
	f := newFake()
	k := newTestKeychain(t, f, 2560)
	if err := k.Set("default", []byte(`{"access_token":"x"}`)); err != nil {
		t.Fatal(err)
	}
	if got := f.users(); len(got) != 1 || got[0] != "default" {
		t.Fatalf("entries = %v, want only [default]", got)
	}
	f.resetCounts()
	if _, err := k.Get("default"); err != nil {
		t.Fatal(err)
	}
	if f.gets != 1 {
		t.Errorf("Get made %d keychain reads, want 1", f.gets)
	}
}

func TestKeychainChunkedGetReadsHeadAndChunks(t *testing.T) {
	f := newFake()
	k := newTestKeychain(t, f, 1000)
	value := pattern(10000, 1) // 13336 base64 bytes: 14 chunks
	if err := k.Set("default", value); err != nil {
		t.Fatal(err)
	}
	head := f.raw("default")
	if !strings.HasPrefix(head, "sesame-chunked/v1 gen=") || !strings.Contains(head, " n=14 sha256=") {
		t.Fatalf("head = %q", head)
	}
	if n := len(f.users()); n != 15 {
		t.Fatalf("%d entries, want head + 14 chunks", n)
	}
	f.resetCounts()
	if _, err := k.Get("default"); err != nil {
		t.Fatal(err)
	}
	if f.gets != 15 {
		t.Errorf("Get made %d keychain reads, want 15", f.gets)
	}
}

// A stored value that looks like a header must come back as itself.
func TestKeychainValueLookingLikeHeader(t *testing.T) {
	f := newFake()
	k := newTestKeychain(t, f, 2560)
	want := []byte("sesame-chunked/v1 gen=0123456789abcdef n=1 sha256=" + strings.Repeat("0", 64))
	if err := k.Set("default", want); err != nil {
		t.Fatal(err)
	}
	got, err := k.Get("default")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Get = %q, %v; want %q", got, err, want)
	}
}

func TestKeychainOverwrite(t *testing.T) {
	small, large := pattern(50, 1), pattern(9000, 2)
	tests := []struct {
		name          string
		first, second []byte
		wantEntries   int
	}{
		{"large to small", large, small, 1},
		{"small to large", small, large, 1 + 12}, // 12000 base64 bytes / 1000
		{"large to large", large, pattern(9000, 9), 1 + 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			k := newTestKeychain(t, f, 1000)
			if err := k.Set("default", tt.first); err != nil {
				t.Fatal(err)
			}
			before := f.users()
			if err := k.Set("default", tt.second); err != nil {
				t.Fatal(err)
			}
			got, err := k.Get("default")
			if err != nil || !bytes.Equal(got, tt.second) {
				t.Fatalf("Get after overwrite: %d bytes, %v", len(got), err)
			}
			after := f.users()
			if len(after) != tt.wantEntries {
				t.Errorf("%d entries after overwrite, want %d: %v", len(after), tt.wantEntries, after)
			}
			for _, name := range before {
				if name != "default" && slices.Contains(after, name) {
					t.Errorf("old chunk %q still stored", name)
				}
			}
		})
	}
}

// Every point at which a Set can stop must leave the previous value intact.
func TestKeychainInterruptedWrite(t *testing.T) {
	olds := map[string][]byte{"small": pattern(40, 5), "large": pattern(4000, 6)}
	for name, old := range olds {
		// The new value takes 7 chunks + head; the first Set call of
		// the second write is number 1 after resetCounts.
		for failAt := 1; failAt <= 8; failAt++ {
			t.Run(fmt.Sprintf("%s/fail set %d", name, failAt), func(t *testing.T) {
				f := newFake()
				k := newTestKeychain(t, f, 1000)
				if err := k.Set("default", old); err != nil {
					t.Fatal(err)
				}
				entries := f.users()
				f.resetCounts()
				f.failSetAt = failAt
				err := k.Set("default", pattern(5000, 7))
				var ue *UnavailableError
				if !errors.As(err, &ue) || !errors.Is(err, errInjected) {
					t.Fatalf("Set = %v, want *UnavailableError wrapping the injected failure", err)
				}
				got, err := k.Get("default")
				if err != nil || !bytes.Equal(got, old) {
					t.Fatalf("Get after failed Set: %d bytes, %v; want the old %d bytes", len(got), err, len(old))
				}
				if after := f.users(); strings.Join(after, ",") != strings.Join(entries, ",") {
					t.Errorf("entries after failed Set = %v, want %v", after, entries)
				}
			})
		}
	}
}

func TestKeychainSetTooBigEverywhere(t *testing.T) {
	f := newFake()
	f.tooBig = flatTooBig(100) // smaller than any chunk we try
	k := newTestKeychain(t, f, 2048)
	old := []byte("old")
	f.tooBig = nil
	if err := k.Set("default", old); err != nil {
		t.Fatal(err)
	}
	f.tooBig = flatTooBig(100)
	err := k.Set("default", pattern(5000, 1))
	if !errors.Is(err, keyring.ErrSetDataTooBig) {
		t.Fatalf("Set = %v, want ErrSetDataTooBig", err)
	}
	if got, err := k.Get("default"); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("Get = %q, %v; want the old value", got, err)
	}
	if got := f.users(); len(got) != 1 {
		t.Errorf("entries = %v, want the old head only", got)
	}
}

func TestKeychainCorruption(t *testing.T) {
	tests := []struct {
		name   string
		damage func(f *fakeKeyring, chunks []string)
	}{
		{"chunk altered", func(f *fakeKeyring, c []string) { f.put(c[1], strings.Repeat("A", len(f.raw(c[1])))) }},
		{"chunk truncated", func(f *fakeKeyring, c []string) { f.put(c[2], f.raw(c[2])[:10]) }},
		{"chunk missing", func(f *fakeKeyring, c []string) { f.Delete(DefaultService, c[0]) }},
		{"chunk not base64", func(f *fakeKeyring, c []string) { f.put(c[0], "!!!!") }},
		{"bad count", func(f *fakeKeyring, _ []string) {
			f.put("default", strings.Replace(f.raw("default"), " n=", " n=x", 1))
		}},
		{"future version", func(f *fakeKeyring, _ []string) { f.put("default", "sesame-chunked/v9 whatever") }},
		{"direct value not base64", func(f *fakeKeyring, _ []string) { f.put("default", "hello world") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			k := newTestKeychain(t, f, 1000)
			if err := k.Set("default", pattern(3000, 1)); err != nil {
				t.Fatal(err)
			}
			var chunks []string
			for _, u := range f.users() {
				if u != "default" {
					chunks = append(chunks, u)
				}
			}
			tt.damage(f, chunks)
			got, err := k.Get("default")
			var ce *CorruptError
			if !errors.As(err, &ce) || got != nil {
				t.Fatalf("Get = %d bytes, %v; want *CorruptError", len(got), err)
			}
			if ce.Key != "default" || !strings.Contains(err.Error(), `"default" is damaged`) {
				t.Errorf("error = %q", err)
			}
		})
	}
}

// A reader that reads the head just before a writer replaces the value must
// end up with the new value, not a corruption error or a mix.
func TestKeychainGetDuringReplace(t *testing.T) {
	f := newFake()
	k := newTestKeychain(t, f, 1000)
	oldValue, newValue := pattern(3000, 1), pattern(3000, 2)
	if err := k.Set("default", oldValue); err != nil {
		t.Fatal(err)
	}
	replaced := false
	f.onGet = func(user string) {
		if strings.Contains(user, "#") && !replaced {
			replaced = true
			if err := newTestKeychain(t, f, 1000).Set("default", newValue); err != nil {
				t.Errorf("concurrent Set: %v", err)
			}
		}
	}
	got, err := k.Get("default")
	if err != nil || !bytes.Equal(got, newValue) {
		t.Fatalf("Get = %d bytes, %v; want the new value", len(got), err)
	}
}

func TestChunkSplitBoundaries(t *testing.T) {
	for _, n := range []int{1, 999, 1000, 1001, 3000} {
		enc := base64.StdEncoding.EncodeToString(pattern(n, 0))
		parts := split(enc, 1000)
		if strings.Join(parts, "") != enc {
			t.Errorf("split(%d) does not rejoin", n)
		}
		for _, p := range parts {
			if len(p) == 0 || len(p) > 1000 {
				t.Errorf("split(%d) made a part of %d bytes", n, len(p))
			}
		}
	}
}

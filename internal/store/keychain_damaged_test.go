package store

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// A damaged entry is never a dead end: Set replaces it and Delete removes
// it, with every chunk that can still be named.
func TestKeychainDamagedEntryCanBeReplacedAndDeleted(t *testing.T) {
	damages := []struct {
		name   string
		damage func(f *fakeKeyring, chunks []string)
		// orphaned: nothing names the old chunks any more, so they stay.
		orphaned bool
	}{
		{"chunk missing", func(f *fakeKeyring, c []string) { f.Delete(DefaultService, c[1]) }, false},
		{"checksum mismatch", func(f *fakeKeyring, c []string) { f.put(c[0], strings.Repeat("A", len(f.raw(c[0])))) }, false},
		{"count truncated", func(f *fakeKeyring, _ []string) {
			h := f.raw("default")
			f.put("default", h[:strings.Index(h, " n=")+3])
		}, false},
		{"checksum cut off", func(f *fakeKeyring, _ []string) {
			h := f.raw("default")
			f.put("default", h[:strings.Index(h, " sha256=")])
		}, false},
		{"future format with a generation", func(f *fakeKeyring, _ []string) {
			f.put("default", strings.Replace(f.raw("default"), "/v1 ", "/v9 ", 1))
		}, false},
		{"header without a generation", func(f *fakeKeyring, _ []string) { f.put("default", "sesame-chunked/v1") }, true},
		{"direct value not base64", func(f *fakeKeyring, _ []string) { f.put("default", "not base64 at all") }, true},
	}
	for _, tt := range damages {
		// leftover counts the old value's chunks still stored.
		leftover := func(f *fakeKeyring, old []string) int {
			n := 0
			for _, c := range old {
				if slices.Contains(f.users(), c) {
					n++
				}
			}
			return n
		}
		wantLeft := func(old []string) int {
			if tt.orphaned {
				return len(old)
			}
			return 0
		}
		damaged := func(t *testing.T) (*fakeKeyring, *Keychain, []string) {
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
			var ce *CorruptError
			if _, err := k.Get("default"); !errors.As(err, &ce) {
				t.Fatalf("Get of the damaged entry = %v, want *CorruptError", err)
			}
			return f, k, chunks
		}
		t.Run(tt.name+"/Set", func(t *testing.T) {
			f, k, old := damaged(t)
			want := pattern(2500, 9)
			if err := k.Set("default", want); err != nil {
				t.Fatalf("Set over the damaged entry: %v", err)
			}
			if got, err := k.Get("default"); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("Get after Set = %d bytes, %v", len(got), err)
			}
			if n := leftover(f, old); n != wantLeft(old) {
				t.Errorf("%d old chunks left after Set: %v", n, f.users())
			}
		})
		t.Run(tt.name+"/Delete", func(t *testing.T) {
			f, k, old := damaged(t)
			if err := k.Delete("default"); err != nil {
				t.Fatalf("Delete of the damaged entry: %v", err)
			}
			if _, err := k.Get("default"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get after Delete = %v, want ErrNotFound", err)
			}
			if n := leftover(f, old); n != wantLeft(old) || len(f.users()) != n {
				t.Errorf("entries after Delete: %v", f.users())
			}
		})
	}
}

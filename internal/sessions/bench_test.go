package sessions

import (
	"testing"
	"time"
)

func BenchmarkMint(b *testing.B) {
	k, _ := newKeys(b, 1)
	clk := newClock()
	m := &Minter{Issuer: issuer, Keys: k, Lifetime: time.Hour, Now: clk.Now}
	s := testSession(clk)
	for b.Loop() {
		if _, err := m.Mint(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	k, _ := newKeys(b, 1)
	clk := newClock()
	m := &Minter{Issuer: issuer, Keys: k, Lifetime: time.Hour, Now: clk.Now}
	tok, _ := m.Mint(testSession(clk))
	for b.Loop() {
		if _, err := m.Parse(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	k, _ := newKeys(b, 1)
	s := testSealed(newClock())
	for b.Loop() {
		if _, err := k.Seal(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenSeal opens a blob sealed by the second of two keys: the
// cost of a renewal during a rotation, the worst case.
func BenchmarkOpenSeal(b *testing.B) {
	oldKey, newKey := keyFile(b, newP256(b)), keyFile(b, newP256(b))
	blob, _ := mustLoad(b, oldKey).Seal(testSealed(newClock()))
	k := mustLoad(b, newKey, oldKey)
	for b.Loop() {
		if _, err := k.Open(blob); err != nil {
			b.Fatal(err)
		}
	}
}

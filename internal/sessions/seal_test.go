package sessions

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func testSealed(clk *clock) Sealed {
	s := testSession(clk)
	s.IssuedAt = clk.Now()
	s.Expiry = clk.Now().Add(30 * 24 * time.Hour)
	return Sealed{Session: s, UpstreamRefreshToken: "upstream-rt-" + NewSessionID(), Upstream: "corp"}
}

func TestSealOpen(t *testing.T) {
	k, _ := newKeys(t, 1)
	in := testSealed(newClock())
	in.AuthTime = in.AuthTime.Add(123 * time.Millisecond).In(time.FixedZone("x", 3600))
	blob, err := k.Seal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(blob, "v1.") || strings.Contains(blob, in.UpstreamRefreshToken) {
		t.Fatalf("blob %q", blob)
	}
	out, err := k.Open(blob)
	if err != nil {
		t.Fatal(err)
	}
	if out.ID != in.ID || out.Subject != in.Subject || out.IDP != in.IDP || out.Email != in.Email ||
		out.Name != in.Name || out.JKT != in.JKT || out.UpstreamRefreshToken != in.UpstreamRefreshToken ||
		out.Upstream != in.Upstream || !out.AuthTime.Equal(in.AuthTime) ||
		!out.IssuedAt.Equal(in.IssuedAt) || !out.Expiry.Equal(in.Expiry) {
		t.Errorf("Open = %+v\nwant %+v", *out, in)
	}
	again, _ := k.Seal(in)
	if again == blob {
		t.Error("two seals of one session are equal: the nonce is not fresh")
	}

	// Unset times stay unset.
	in.Expiry, in.IssuedAt = time.Time{}, time.Time{}
	blob, _ = k.Seal(in)
	if out, err := k.Open(blob); err != nil || !out.Expiry.IsZero() || !out.IssuedAt.IsZero() {
		t.Errorf("Open = %+v, %v", out, err)
	}
}

func TestSealRotation(t *testing.T) {
	clk := newClock()
	oldKey, newKey := keyFile(t, newP256(t)), keyFile(t, newP256(t))
	blob, _ := mustLoad(t, oldKey).Seal(testSealed(clk))
	rotated := mustLoad(t, newKey, oldKey)
	if _, err := rotated.Open(blob); err != nil {
		t.Errorf("a blob sealed by the second key: %v", err)
	}
	if _, err := mustLoad(t, newKey).Open(blob); err != ErrSealed {
		t.Errorf("a blob of a dropped key: %v", err)
	}
	fresh, _ := rotated.Seal(testSealed(clk))
	if _, err := mustLoad(t, newKey).Open(fresh); err != nil {
		t.Errorf("a new blob is not sealed by the first key: %v", err)
	}
	other, _ := newKeys(t, 2)
	if _, err := other.Open(blob); err != ErrSealed {
		t.Errorf("a blob from another key set: %v", err)
	}
}

func TestOpenRefusesTampering(t *testing.T) {
	k, _ := newKeys(t, 1)
	blob, _ := k.Seal(testSealed(newClock()))
	check := func(what, bad string) {
		t.Helper()
		out, err := k.Open(bad)
		if err != ErrSealed || out != nil {
			t.Errorf("%s: Open = %v, %v; want ErrSealed alone", what, out, err)
		}
	}
	for i := range len(blob) {
		b := []byte(blob)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		check(fmt.Sprintf("byte %d", i), string(b))
	}
	for _, n := range []int{0, 1, 2, 3, 4, 10, 3 + 16, 3 + 38, len(blob) / 2, len(blob) - 2, len(blob) - 1} {
		check("truncated", blob[:n])
	}
	check("extended", blob+"A")
	check("extended by a block", blob+"AAAA")
	check("version 2", "v2."+blob[3:])
	check("no version", blob[3:])
	check("upper case", "V1."+blob[3:])
	check("line break", blob[:40]+"\n"+blob[40:])
	check("padding", blob+"==")
	check("standard base64", strings.NewReplacer("-", "+", "_", "/").Replace(blob))
	check("garbage", "v1.!!!!")
	check("a JWT", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln")
	check("too long", "v1."+strings.Repeat("A", MaxSealed))
	if strings.Contains(ErrSealed.Error(), blob[3:10]) {
		t.Error("the error quotes the blob")
	}
}

func TestSealBounds(t *testing.T) {
	k, _ := newKeys(t, 1)
	s := testSealed(newClock())
	s.UpstreamRefreshToken = strings.Repeat("r", MaxSealed)
	if _, err := k.Seal(s); err == nil || errors.Is(err, ErrSealed) || !strings.Contains(err.Error(), "16384") {
		t.Errorf("Seal of an oversized session: %v", err)
	}
	// The largest blob Seal makes, Open takes.
	s.UpstreamRefreshToken = strings.Repeat("r", MaxSealed*3/4-600)
	blob, err := k.Seal(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open(blob); err != nil {
		t.Errorf("Open of a %d-byte blob: %v", len(blob), err)
	}
	s.ID = ""
	if _, err := k.Seal(s); err == nil {
		t.Error("sealed a session without an ID")
	}
}

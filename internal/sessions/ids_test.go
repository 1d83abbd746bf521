package sessions

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestSubjectFor(t *testing.T) {
	a := SubjectFor("https://idp.example", "alice")
	if a != SubjectFor("https://idp.example", "alice") {
		t.Error("not stable")
	}
	// Pinned (computed apart from Go): subjects must not change between
	// broker versions.
	if want := "u_fjoNTmTQU6oNgELFACkvB76RSCRWSfLDcJfURUxvsb8"; a != want {
		t.Errorf("SubjectFor = %s, want %s", a, want)
	}
	for _, other := range []string{
		SubjectFor("https://other.example", "alice"),
		SubjectFor("https://idp.example", "bob"),
		SubjectFor("https://idp.examplealice", ""),
	} {
		if other == a {
			t.Errorf("%s collides", other)
		}
	}
	if len(a) != 2+43 || strings.ContainsAny(a, "=+/") {
		t.Errorf("%q is not u_ and unpadded base64url SHA-256", a)
	}
}

func TestNewSessionID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewSessionID()
		b, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil || len(b) != 16 || seen[id] {
			t.Fatalf("%q: %v", id, err)
		}
		seen[id] = true
	}
}

func TestCheckLifetime(t *testing.T) {
	for d, ok := range map[time.Duration]bool{
		4*time.Minute + 59*time.Second: false,
		5 * time.Minute:                true,
		336 * time.Hour:                true,
		336*time.Hour + time.Second:    false,
		0:                              false,
		-time.Hour:                     false,
	} {
		err := CheckLifetime(d)
		if (err == nil) != ok {
			t.Errorf("CheckLifetime(%s) = %v", d, err)
		}
		if err != nil && (!strings.Contains(err.Error(), "5m") || !strings.Contains(err.Error(), "336h")) {
			t.Errorf("error %q does not name the bounds", err)
		}
	}
}

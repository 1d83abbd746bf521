package verify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/verify"
)

// Whatever a client sends as a proof, CheckProof answers with a refusal
// or a thumbprint, and never panics.
func FuzzCheckProof(f *testing.F) {
	c := newCLI(f)
	ed := newEdCLI(f)
	f.Add(c.proof(f, proofClaims("GET", apiURL, "tok", t0)))
	f.Add(ed.proof(f, proofClaims("GET", apiURL, "", t0)))
	f.Add("e30.e30.AA")
	f.Fuzz(func(t *testing.T, proof string) {
		jkt, _, err := verify.CheckProof(proof, "GET", apiURL, "tok", t0, time.Minute, time.Second)
		if err == nil && jkt == "" || err != nil && !errors.Is(err, verify.ErrInvalidProof) {
			t.Fatalf("got %q, %v", jkt, err)
		}
	})
}

// Whatever a client sends as a token, Verify refuses it or returns claims.
func FuzzVerify(f *testing.F) {
	b, v, clk, c := setup(f)
	f.Add(b.token(f, b.claims(clk.Now(), c.jkt)))
	f.Add("eyJhbGciOiJFUzI1NiIsImtpZCI6ImsiLCJ0eXAiOiJhdCtqd3QifQ.e30.AA")
	f.Fuzz(func(t *testing.T, token string) {
		got, err := v.Verify(context.Background(), token)
		if err == nil && got == nil || err != nil && !errors.Is(err, verify.ErrInvalidToken) && !errors.Is(err, verify.ErrUnavailable) {
			t.Fatalf("got %v, %v", got, err)
		}
	})
}

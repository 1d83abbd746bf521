package verify_test

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Many requests at once on one Verifier, through a cold start and a key
// rotation: run with -race. A cold start fetches the key set once.
func TestConcurrentVerify(t *testing.T) {
	b, v, clk, _ := setup(t)
	clis := make([]*cli, 8)
	for i := range clis {
		clis[i] = newCLI(t)
	}
	tokens := func() []string {
		out := make([]string, len(clis))
		for i, c := range clis {
			out[i] = b.token(t, b.claims(clk.Now(), c.jkt))
		}
		return out
	}
	run := func(toks []string) {
		var wg sync.WaitGroup
		for g := range 32 {
			wg.Go(func() {
				c, tok := clis[g%len(clis)], toks[g%len(toks)]
				for range 10 {
					if _, err := v.Verify(context.Background(), tok); err != nil {
						t.Error(err)
						return
					}
					p := c.proof(t, proofClaims("GET", apiURL, tok, clk.Now()))
					if _, err := v.VerifyRequest(request("GET", apiURL, "DPoP", tok, p)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	run(tokens())
	if got := b.jwksHits.Load(); got != 1 {
		t.Errorf("cold start: %d fetches of the key set, want 1", got)
	}

	clk.Add(time.Minute)
	next := newECKey(t)
	b.set(func(b *broker) { b.published = append(b.published, next); b.signing = next })
	run(tokens())
	if got := b.jwksHits.Load(); got != 2 {
		t.Errorf("rotation: %d fetches of the key set, want 2", got)
	}
}

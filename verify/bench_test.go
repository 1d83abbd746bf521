package verify_test

import (
	"context"
	"net/http"
	"testing"
)

// BenchmarkVerify is the offline cost of a token: the key set is cached.
func BenchmarkVerify(b *testing.B) {
	br, v, clk, c := setup(b)
	tok := br.token(b, br.claims(clk.Now(), c.jkt))
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRequest is the offline cost of a request: token, proof
// (ES256, as the CLI makes by default) and replay check. Proofs are made
// beforehand, one per request, since none may be used twice.
func BenchmarkVerifyRequest(b *testing.B) {
	br, v, clk, c := setup(b)
	v.ReplayCacheSize = 1 << 24
	tok := br.token(b, br.claims(clk.Now(), c.jkt))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		b.Fatal(err)
	}
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		reqs[i] = request("GET", apiURL, "DPoP", tok, c.proof(b, proofClaims("GET", apiURL, tok, clk.Now())))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.VerifyRequest(reqs[i]); err != nil {
			b.Fatal(err)
		}
	}
}

package sessionbroker

import (
	"net/http"
	"testing"
)

// BenchmarkRenewal is one session renewal end to end in process: the
// DPoP proof made and checked and recorded (memory store), the sealed
// session opened, the revocation check, the refresh at the in-process
// upstream provider (its own work counts in the figure), a new session
// token minted and the session sealed again.
func BenchmarkRenewal(b *testing.B) {
	hs := newHarness(b, harnessOptions{})
	k := newDPoPKey(b)
	blob := hs.start(b, "alpha", k).str("refresh_token")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		a := hs.renew(b, blob, k)
		if a.status != http.StatusOK {
			b.Fatalf("renewal: HTTP %d %v", a.status, a.body)
		}
		blob = a.str("refresh_token")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "renewals/s")
}

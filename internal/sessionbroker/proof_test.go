package sessionbroker

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/dpop"
)

func TestTokenEndpointNeedsOneFreshProof(t *testing.T) {
	hs := newHarness(t, harnessOptions{path: "/auth"})
	k := newDPoPKey(t)
	proofFor := func(method, u string, at time.Time) string {
		p, err := k.Proof(dpop.ProofClaims{Method: method, URL: u, Now: at})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	now := hs.clk.Now()
	for _, c := range []struct {
		name   string
		proofs []string
	}{
		{"none", nil},
		{"two", []string{hs.proof(t, k), hs.proof(t, k)}},
		{"not a JWT", []string{"not-a-proof"}},
		{"another URL", []string{proofFor(http.MethodPost, hs.srv.URL+routeToken, now)}},
		{"another method", []string{proofFor(http.MethodGet, hs.issuer+routeToken, now)}},
		{"too old", []string{proofFor(http.MethodPost, hs.issuer+routeToken, now.Add(-5*time.Minute))}},
		{"from the future", []string{proofFor(http.MethodPost, hs.issuer+routeToken, now.Add(5*time.Minute))}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := hs.authorize(t, "alpha")
			a := hs.post(t, routeToken, l.form(), c.proofs...)
			wantError(t, a, http.StatusBadRequest, "invalid_dpop_proof")
			if strings.Contains(a.str("error_description"), "eyJ") {
				t.Errorf("the description repeats the proof: %q", a.str("error_description"))
			}
		})
	}
	if n := hs.idps["alpha"].Grants("authorization_code"); n != 0 {
		t.Errorf("refused requests still redeemed %d codes upstream", n)
	}
}

func TestReplayedProofIsRefused(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	k := newDPoPKey(t)
	blob := hs.start(t, "alpha", k).str("refresh_token")
	p := hs.proof(t, k)
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {blob}}
	if a := hs.post(t, routeToken, form, p); a.status != http.StatusOK {
		t.Fatalf("first use of the proof: HTTP %d %v", a.status, a.body)
	}
	wantError(t, hs.post(t, routeToken, form, p), http.StatusBadRequest, "invalid_dpop_proof")
	if n := hs.idps["alpha"].Grants("refresh_token"); n != 1 {
		t.Errorf("the replay reached the upstream: %d refreshes", n)
	}
}

// Replicas behind a load balancer see other hosts than the issuer's: the
// proof names the issuer's URL, and that is what counts.
func TestProofNamesTheIssuerWhateverTheHost(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	k := newDPoPKey(t)
	req, _ := http.NewRequest(http.MethodPost, hs.issuer+routeToken, strings.NewReader(hs.authorize(t, "alpha").form().Encode()))
	req.Host = "replica-7.internal:8443"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", hs.proof(t, k))
	if a := hs.do(t, req); a.status != http.StatusOK {
		t.Fatalf("HTTP %d %v", a.status, a.body)
	}
}

func TestEdDSAProofs(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	k, err := dpop.Generate("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	c, err := hs.verifier().Verify(context.Background(), hs.start(t, "beta", k).str("access_token"))
	if err != nil {
		t.Fatal(err)
	}
	if c.JKT != k.Thumbprint() {
		t.Errorf("cnf.jkt = %q, want %q", c.JKT, k.Thumbprint())
	}
}

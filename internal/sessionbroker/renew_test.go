package sessionbroker

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRenewalKeepsTheSession(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	k := newDPoPKey(t)
	first := hs.start(t, "alpha", k)
	v := hs.verifier()
	before, err := v.Verify(context.Background(), first.str("access_token"))
	if err != nil {
		t.Fatal(err)
	}
	hs.clk.Set(2 * time.Minute)
	next := hs.renew(t, first.str("refresh_token"), k)
	if next.status != http.StatusOK || next.str("token_type") != "DPoP" {
		t.Fatalf("renewal: HTTP %d %v", next.status, next.body)
	}
	after, err := v.Verify(context.Background(), next.str("access_token"))
	if err != nil {
		t.Fatal(err)
	}
	if after.SessionID != before.SessionID || after.Subject != before.Subject || after.IDP != before.IDP ||
		!after.AuthTime.Equal(before.AuthTime) || after.JKT != k.Thumbprint() || after.Email != before.Email {
		t.Errorf("renewal changed the session:\nbefore %+v\n after %+v", before, after)
	}
	if after.JTI == before.JTI || !after.IssuedAt.After(before.IssuedAt) {
		t.Error("the renewal did not mint a new token")
	}
	if next.str("refresh_token") == first.str("refresh_token") {
		t.Error("the upstream rotated its refresh token, but the sealed session is the same")
	}
	if n := hs.idps["alpha"].Grants("refresh_token"); n != 1 {
		t.Errorf("the upstream was refreshed %d times", n)
	}
	if a := hs.renew(t, next.str("refresh_token"), k); a.status != http.StatusOK {
		t.Fatalf("second renewal: HTTP %d %v", a.status, a.body)
	}
}

// A sealed session presented again after its upstream refresh token was
// rotated is reuse: the upstream ends the grant, and the broker the
// session, so that the token minted last stops being active too.
func TestReusedSealedSessionEndsTheSession(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	k := newDPoPKey(t)
	first := hs.start(t, "beta", k)
	next := hs.renew(t, first.str("refresh_token"), k)
	if next.status != http.StatusOK {
		t.Fatalf("renewal: HTTP %d %v", next.status, next.body)
	}
	wantError(t, hs.renew(t, first.str("refresh_token"), k), http.StatusBadRequest, "invalid_grant")
	if a := hs.introspect(t, next.str("access_token")); a.body["active"] != false {
		t.Errorf("the session lives on after reuse: %v", a.body)
	}
	wantError(t, hs.renew(t, next.str("refresh_token"), k), http.StatusBadRequest, "invalid_grant")
}

func TestRenewalsTheBrokerRefuses(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	k := newDPoPKey(t)
	blob := hs.start(t, "alpha", k).str("refresh_token")

	a := hs.renew(t, blob, newDPoPKey(t))
	wantError(t, a, http.StatusBadRequest, "invalid_grant")
	if !strings.Contains(a.str("error_description"), "bound to another key") {
		t.Errorf("another key: %q", a.str("error_description"))
	}

	tampered := []byte(blob)
	i := len(tampered) / 2
	tampered[i] = map[bool]byte{true: 'A', false: 'B'}[tampered[i] != 'A']
	var descriptions []string
	for _, bad := range []string{string(tampered), blob[:len(blob)-4], "v2" + blob[2:], "not a blob"} {
		a := hs.renew(t, bad, k)
		wantError(t, a, http.StatusBadRequest, "invalid_grant")
		descriptions = append(descriptions, a.str("error_description"))
	}
	for _, d := range descriptions[1:] {
		if d != descriptions[0] {
			t.Errorf("blobs that do not open are told apart: %q and %q", descriptions[0], d)
		}
	}

	f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {blob}, "resource": {"https://api.example.com"}}
	wantError(t, hs.post(t, routeToken, f, hs.proof(t, k)), http.StatusBadRequest, "invalid_target")
	wantError(t, hs.post(t, routeToken, url.Values{"grant_type": {"refresh_token"}}, hs.proof(t, k)), http.StatusBadRequest, "invalid_request")

	hs.clk.Set(MaxSessionAge + time.Hour)
	a = hs.renew(t, blob, k)
	wantError(t, a, http.StatusBadRequest, "invalid_grant")
	if !strings.Contains(a.str("error_description"), "older than 30 days") {
		t.Errorf("too old: %q", a.str("error_description"))
	}
	if n := hs.idps["alpha"].Grants("refresh_token"); n != 0 {
		t.Errorf("refused renewals reached the upstream %d times", n)
	}
}

// A session token that has expired renews like one about to: the sealed
// session, not the token, says whether the session goes on.
func TestRenewalAfterExpiry(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	k := newDPoPKey(t)
	first := hs.start(t, "alpha", k)
	v := hs.verifier()
	hs.clk.Set(DefaultLifetime + time.Minute)
	if _, err := v.Verify(context.Background(), first.str("access_token")); err == nil {
		t.Fatal("the first token still verifies after its lifetime")
	}
	next := hs.renew(t, first.str("refresh_token"), k)
	if next.status != http.StatusOK {
		t.Fatalf("renewal after expiry: HTTP %d %v", next.status, next.body)
	}
	if _, err := v.Verify(context.Background(), next.str("access_token")); err != nil {
		t.Fatalf("the renewed token: %v", err)
	}
}

package sessionbroker

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestIntrospection(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	k := newDPoPKey(t)
	a := hs.start(t, "alpha", k)
	c, err := hs.verifier().Verify(context.Background(), a.str("access_token"))
	if err != nil {
		t.Fatal(err)
	}
	got := hs.introspect(t, a.str("access_token"))
	want := map[string]any{
		"active": true, "iss": hs.issuer, "sub": c.Subject, "sid": c.SessionID, "idp": "alpha",
		"exp": float64(c.Expiry.Unix()), "iat": float64(c.IssuedAt.Unix()), "auth_time": float64(c.AuthTime.Unix()),
		"cnf": map[string]any{"jkt": k.Thumbprint()},
	}
	if jsonOf(got.body) != jsonOf(want) {
		t.Errorf("introspection:\n got %v\nwant %v", got.body, want)
	}
	for _, tok := range []string{a.str("refresh_token"), "garbage", a.str("access_token") + "x"} {
		if got := hs.introspect(t, tok); got.status != http.StatusOK || jsonOf(got.body) != `{"active":false}` {
			t.Errorf("introspection of a non-token: HTTP %d %v", got.status, got.body)
		}
	}
	hs.clk.Set(16 * time.Minute) // past the 15m lifetime
	if got := hs.introspect(t, a.str("access_token")); jsonOf(got.body) != `{"active":false}` {
		t.Errorf("an expired token: %v", got.body)
	}
	wantError(t, hs.introspect(t, ""), http.StatusBadRequest, "invalid_request")
}

func TestRevokingTheSealedSession(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	k := newDPoPKey(t)
	a := hs.start(t, "alpha", k)
	sealed, err := hs.keys.Open(a.str("refresh_token"))
	if err != nil {
		t.Fatal(err)
	}
	r := hs.post(t, routeRevoke, url.Values{"token": {a.str("refresh_token")}, "token_type_hint": {"refresh_token"}})
	if r.status != http.StatusOK {
		t.Fatalf("revoke: HTTP %d %v", r.status, r.body)
	}
	if got := hs.introspect(t, a.str("access_token")); got.body["active"] != false {
		t.Errorf("introspection after revocation: %v", got.body)
	}
	d := hs.renew(t, a.str("refresh_token"), k)
	wantError(t, d, http.StatusBadRequest, "invalid_grant")
	if !strings.Contains(d.str("error_description"), "revoked") {
		t.Errorf("description = %q", d.str("error_description"))
	}
	// The upstream's refresh token was revoked at the upstream too.
	up := hs.upstreamRefresh(t, "alpha", sealed.UpstreamRefreshToken)
	if up.str("error") != "invalid_grant" {
		t.Errorf("the upstream refresh token still works: HTTP %d %v", up.status, up.body)
	}
}

func TestRevokingTheSessionToken(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	k := newDPoPKey(t)
	a := hs.start(t, "beta", k)
	if r := hs.post(t, routeRevoke, url.Values{"token": {a.str("access_token")}}); r.status != http.StatusOK {
		t.Fatalf("revoke: HTTP %d", r.status)
	}
	wantError(t, hs.renew(t, a.str("refresh_token"), k), http.StatusBadRequest, "invalid_grant")
	if got := hs.introspect(t, a.str("access_token")); got.body["active"] != false {
		t.Errorf("introspection after revocation: %v", got.body)
	}
	for _, tok := range []string{"unknown", "v1.AAAA", a.str("access_token") + "x"} {
		if r := hs.post(t, routeRevoke, url.Values{"token": {tok}}); r.status != http.StatusOK {
			t.Errorf("revoking a token that is none of the broker's: HTTP %d, want 200 (RFC 7009 §2.2)", r.status)
		}
	}
	wantError(t, hs.post(t, routeRevoke, url.Values{}), http.StatusBadRequest, "invalid_request")
}

func TestRevokeSubject(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	k := newDPoPKey(t)
	old1, old2, other := hs.start(t, "alpha", k), hs.start(t, "alpha", k), hs.start(t, "beta", k)
	c, err := hs.verifier().Verify(context.Background(), old1.str("access_token"))
	if err != nil {
		t.Fatal(err)
	}
	if err := hs.h.RevokeSubject(context.Background(), c.Subject); err != nil {
		t.Fatal(err)
	}
	for _, a := range []answer{old1, old2} {
		if got := hs.introspect(t, a.str("access_token")); got.body["active"] != false {
			t.Errorf("a session signed in before the revocation is active: %v", got.body)
		}
		wantError(t, hs.renew(t, a.str("refresh_token"), k), http.StatusBadRequest, "invalid_grant")
	}
	if got := hs.introspect(t, other.str("access_token")); got.body["active"] != true {
		t.Errorf("another subject's session was revoked: %v", got.body)
	}
	// The upstream's own session, from before the revocation, starts none.
	a := hs.post(t, routeToken, hs.authorize(t, "alpha").form(), hs.proof(t, k))
	wantError(t, a, http.StatusBadRequest, "login_required")
	hs.idpClk["alpha"].Set(2 * time.Second) // a sign-in after the revocation
	if got := hs.introspect(t, hs.start(t, "alpha", k).str("access_token")); got.body["active"] != true {
		t.Errorf("a session signed in after the revocation is not active: %v", got.body)
	}
	if err := hs.h.RevokeSubject(context.Background(), ""); err == nil {
		t.Error("RevokeSubject took an empty subject")
	}
}

// upstreamRefresh uses an upstream refresh token at the upstream itself.
func (hs *harness) upstreamRefresh(t *testing.T, provider, rt string) answer {
	t.Helper()
	idp := hs.idps[provider]
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	req, _ := http.NewRequest(http.MethodPost, idp.Endpoint("/token"), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(idp.ClientID(), alphaSecret)
	return hs.do(t, req)
}

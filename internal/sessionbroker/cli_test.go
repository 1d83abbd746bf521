package sessionbroker

import (
	"context"
	"net/url"
	"testing"

	"github.com/sesame-cli/sesame/internal/brokerclient"
	"github.com/sesame-cli/sesame/internal/grant"
)

// The CLI's own grant client, set up as a login in session mode sets it
// up (internal/login/session.go), speaks this protocol: the code goes to
// the broker's base URL + /session/token, the proofs name the token
// endpoint of the broker's discovery document, the renewal blob is the
// refresh token, and logout revokes it.
func TestTheCLIsGrantClientSpeaksTheProtocol(t *testing.T) {
	hs := newHarness(t, harnessOptions{path: "/auth"})
	ctx := context.Background()
	md, err := brokerclient.Discover(ctx, hs.srv.Client(), hs.issuer)
	if err != nil {
		t.Fatal(err)
	}
	k := newDPoPKey(t)
	c := grant.Client{ClientID: "alpha-client", TokenURL: hs.issuer + "/session/token", HTTP: hs.srv.Client(),
		Now: hs.clk.Now, DPoP: k, DPoPURL: md.TokenEndpoint}
	l := hs.authorize(t, "alpha")
	got, err := c.Exchange(ctx, l.code, l.verifier, l.redirect, url.Values{"provider": {"alpha"}, "nonce": {l.nonce}})
	if err != nil {
		t.Fatal(err)
	}
	v := hs.verifier()
	claims, err := v.Verify(ctx, got.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if claims.JKT != k.Thumbprint() || got.TokenType != "DPoP" || got.RefreshToken == "" {
		t.Fatalf("exchange: %+v, claims %+v", got, claims)
	}
	renewed, err := c.Refresh(ctx, got.RefreshToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	if active, err := v.Active(ctx, renewed.AccessToken); err != nil || !active {
		t.Fatalf("Active after renewal = %v, %v", active, err)
	}
	if err := c.Revoke(ctx, md.RevocationEndpoint, renewed.RefreshToken, "refresh_token"); err != nil {
		t.Fatal(err)
	}
	if active, err := v.Active(ctx, renewed.AccessToken); err != nil || active {
		t.Fatalf("Active after logout = %v, %v", active, err)
	}
	if _, err := c.Refresh(ctx, renewed.RefreshToken, nil); !grant.IsInvalidGrant(err) {
		t.Fatalf("renewal after logout: %v, want invalid_grant", err)
	}
}

package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/testidp"
)

func verifyWith(t *testing.T, idp *testidp.IdP, raw, nonce string) (*Identity, error) {
	t.Helper()
	ep := Endpoints{Issuer: idp.Issuer, JWKS: idp.Endpoint("/jwks")}
	return VerifyIDToken(context.Background(), nil, ep, idp.ClientID(), raw, nonce, nil)
}

// TestVerifyIDTokenRules covers each rule of OpenID Connect Core §3.1.3.7
// and RFC 8725 that VerifyIDToken enforces, one broken claim at a time.
func TestVerifyIDTokenRules(t *testing.T) {
	idp := testidp.New(t, testidp.Options{})
	set := func(k string, v any) func(map[string]any) {
		return func(c map[string]any) {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
	}
	tests := []struct {
		name   string
		edit   func(map[string]any)
		header map[string]any // replaces the protected header's typ when set
		nonce  string
		want   string // "" means accepted
	}{
		{name: "valid", nonce: "n-1"},
		{name: "no nonce expected", edit: set("nonce", nil)},
		{name: "azp of this client with one audience", edit: set("azp", "test-client")},
		{name: "several audiences with azp", edit: func(c map[string]any) { c["aud"] = []string{"test-client", "api"}; c["azp"] = "test-client" }},
		{name: "typ JWT", header: map[string]any{"typ": "JWT"}},
		{name: "no sub", edit: set("sub", nil), want: "no sub claim"},
		{name: "empty sub", edit: set("sub", ""), want: "no sub claim"},
		{name: "several audiences without azp", edit: set("aud", []string{"test-client", "api"}), want: "no azp"},
		{name: "azp of another party", edit: set("azp", "other-client"), want: `azp is "other-client"`},
		{name: "several audiences, azp of another party", edit: func(c map[string]any) { c["aud"] = []string{"test-client", "other"}; c["azp"] = "other" }, want: "azp"},
		{name: "typ at+jwt", header: map[string]any{"typ": "at+jwt"}, want: `typ is "at+jwt"`},
		{name: "typ application/at+jwt", header: map[string]any{"typ": "application/at+jwt"}, want: "typ"},
		{name: "typ logout+jwt", header: map[string]any{"typ": "logout+jwt"}, want: "typ"},
		{name: "wrong nonce", nonce: "expected", edit: set("nonce", "other"), want: "nonce does not match"},
		{name: "missing nonce", nonce: "expected", edit: set("nonce", nil), want: "nonce does not match"},
		{name: "wrong aud", edit: set("aud", "someone-else"), want: "failed verification"},
		{name: "wrong iss", edit: set("iss", "https://evil.example"), want: "failed verification"},
		{name: "expired", edit: set("exp", time.Now().Add(-time.Hour).Unix()), want: "expired"},
		{name: "issued in the future", edit: set("iat", time.Now().Add(time.Hour).Unix()), want: "future"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := idp.Claims()
			c["nonce"] = "n-1"
			if tt.nonce != "" && tt.nonce != "n-1" {
				c["nonce"] = tt.nonce
			}
			if tt.edit != nil {
				tt.edit(c)
			}
			raw := idp.SignIDToken(c)
			if tt.header != nil {
				raw = idp.SignJWT(tt.header["typ"].(string), c)
			}
			id, err := verifyWith(t, idp, raw, tt.nonce)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if id.Subject != testidp.Subject || id.Email != testidp.Email || id.Expiry.IsZero() {
					t.Errorf("identity %+v", id)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message is more than one line: %q", err)
			}
		})
	}
}

func TestVerifyIDTokenCleansForeignText(t *testing.T) {
	idp := testidp.New(t, testidp.Options{})
	c := idp.Claims()
	c["aud"] = "evil\x1b]0;title\x07"
	_, err := verifyWith(t, idp, idp.SignIDToken(c), "")
	if err == nil || strings.ContainsRune(err.Error(), 0x1b) {
		t.Fatalf("err %q", err)
	}
	c = idp.Claims()
	c["azp"] = "x\x1b[2J"
	_, err = verifyWith(t, idp, idp.SignIDToken(c), "")
	if err == nil || strings.ContainsRune(err.Error(), 0x1b) {
		t.Fatalf("err %q", err)
	}
}

func TestVerifyIDTokenNeedsKeys(t *testing.T) {
	idp := testidp.New(t, testidp.Options{})
	raw := idp.SignIDToken(idp.Claims())
	if _, err := VerifyIDToken(context.Background(), nil, Endpoints{Issuer: idp.Issuer}, idp.ClientID(), raw, "", nil); err == nil {
		t.Fatal("verified without a JWKS URL")
	}
	if _, err := VerifyIDToken(context.Background(), nil, Endpoints{Issuer: idp.Issuer, JWKS: idp.Endpoint("/nope")}, idp.ClientID(), raw, "", nil); err == nil {
		t.Fatal("verified with a JWKS URL that answers 404")
	}
	big := idp.Claims()
	big["pad"] = strings.Repeat("x", maxIDToken)
	if _, err := verifyWith(t, idp, idp.SignIDToken(big), ""); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Fatalf("oversize: %v", err)
	}
}

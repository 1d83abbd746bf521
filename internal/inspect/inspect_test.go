package inspect_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/inspect"
	"github.com/sesame-cli/sesame/internal/testidp"
)

func TestValidTokens(t *testing.T) {
	for _, alg := range []string{"RS256", "ES384", "PS256", "EdDSA", "ES256", "RS512"} {
		t.Run(alg, func(t *testing.T) {
			p := newIdP(t, alg)
			claims := p.Claims()
			claims["nonce"] = "n-1"
			tok := p.SignIDToken(claims)
			for name, o := range map[string]inspect.Options{
				"discovered": {Issuer: p.Issuer, Audience: p.ClientID(), Now: at(5 * time.Minute)},
				"stored":     {Issuer: p.Issuer, JWKSURL: p.Endpoint("/jwks"), Audience: p.ClientID(), Now: at(5 * time.Minute)},
			} {
				r, err := inspect.Inspect(context.Background(), "  "+tok+"\n", o)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !r.Valid || len(r.Problems) != 0 || r.Problems == nil {
					t.Fatalf("%s: valid=%v problems=%#v checks=%+v", name, r.Valid, r.Problems, r.Checks)
				}
				var names []string
				for _, c := range r.Checks {
					names = append(names, c.Name)
				}
				if strings.Join(names, ",") != "signature,iss,aud,exp,nbf,iat" {
					t.Errorf("%s: checks %v", name, names)
				}
				want := alg + ", key kid=" + p.Key().KeyID + " from " + p.Endpoint("/jwks")
				if r.Checks[0].Detail != want {
					t.Errorf("%s: signature detail %q, want %q", name, r.Checks[0].Detail, want)
				}
				if r.Token != tok || r.Header["alg"] != alg || r.Claims["nonce"] != "n-1" {
					t.Errorf("%s: token/header/claims not decoded: %v %v", name, r.Header, r.Claims)
				}
			}
		})
	}
}

func TestOtherValidShapes(t *testing.T) {
	p := newIdP(t, "RS256")
	multi := p.Claims()
	multi["aud"] = []string{"https://api.example.test", p.ClientID()}
	multi["azp"] = p.ClientID()
	expiring := p.Claims()
	expiring["exp"] = issued.Add(5*time.Minute - 30*time.Second).Unix()
	noKid := testidp.ForgeJWT(map[string]any{"alg": "RS256", "typ": "JWT"}, p.Claims(), signRS256(t, p))

	for _, tc := range []struct {
		name, token, check, detail string
		o                          inspect.Options
	}{
		{"several audiences name azp", p.SignIDToken(multi), "aud", "[https://api.example.test, test-client], azp test-client",
			inspect.Options{Issuer: p.Issuer, Audience: p.ClientID()}},
		{"expired within the skew", p.SignIDToken(expiring), "exp", "expired 30s ago (2026-11-22T09:04:30Z), within the 1m clock skew",
			inspect.Options{Issuer: p.Issuer}},
		{"no kid: keys that fit are tried", noKid, "signature", "RS256, key kid=" + p.Key().KeyID,
			inspect.Options{Issuer: p.Issuer}},
		{"audience not checked", p.SignIDToken(p.Claims()), "aud", "[test-client] (not checked",
			inspect.Options{Issuer: p.Issuer}},
		{"Bearer prefix", "Bearer " + p.SignIDToken(p.Claims()), "exp", "expires in 55m (2026-11-22T10:00:00Z)",
			inspect.Options{Issuer: p.Issuer}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.o.Now == nil {
				tc.o.Now = at(5 * time.Minute)
			}
			r, err := inspect.Inspect(context.Background(), tc.token, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Valid {
				t.Fatalf("problems %v", r.Problems)
			}
			if d := detail(r, tc.check); !strings.Contains(d, tc.detail) {
				t.Errorf("%s detail %q, want it to contain %q", tc.check, d, tc.detail)
			}
		})
	}
}

func TestLogtoAccessTokens(t *testing.T) {
	p := testidp.New(t, testidp.Options{Path: "/oidc", Alg: "ES384"})
	api := "https://api.example.test"
	for _, tc := range []struct {
		name, aud string
		extra     url.Values
	}{
		{"organization", testidp.OrganizationAudience("acme"), url.Values{"organization_id": {"acme"}}},
		{"resource", api, url.Values{"resource": {api}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := accessToken(t, p, tc.extra)
			r, err := inspect.Inspect(context.Background(), tok, inspect.Options{Issuer: p.Issuer, Audience: tc.aud})
			if err != nil {
				t.Fatal(err)
			}
			if !r.Valid || r.Header["typ"] != "at+jwt" || r.Claims["aud"] != tc.aud {
				t.Fatalf("valid=%v header=%v claims=%v problems=%v", r.Valid, r.Header, r.Claims, r.Problems)
			}
			// An ID token's audience is not an access token's.
			r, err = inspect.Inspect(context.Background(), tok, inspect.Options{Issuer: p.Issuer, Audience: p.ClientID()})
			if err != nil {
				t.Fatal(err)
			}
			if want := `aud: [` + tc.aud + `] does not include "test-client"`; r.Valid || !slices.Contains(r.Problems, want) {
				t.Errorf("problems %q, want %q", r.Problems, want)
			}
		})
	}
}

func TestOpaqueAndEncrypted(t *testing.T) {
	jwe := b64(`{"alg":"RSA-OAEP-256","enc":"A256GCM"}`) + ".a.b.c.d"
	for tok, want := range map[string]error{
		"":                       inspect.ErrNotJWT,
		"2YotnFZFEjr1zCsicMWpAA": inspect.ErrNotJWT,
		"abc.def.ghi":            inspect.ErrNotJWT,
		b64("[1,2]") + ".e30.":   inspect.ErrNotJWT,
		jwe:                      inspect.ErrEncrypted,
		b64(`{"alg":"dir","enc":"A128GCM"}`) + "..iv.ct.tag": inspect.ErrEncrypted,
	} {
		r, err := inspect.Inspect(context.Background(), tok, inspect.Options{})
		if !errors.Is(err, want) || r != nil {
			t.Errorf("%q: %v, %v; want %v", tok, r, err, want)
		}
	}
	if inspect.ErrEncrypted.Error() != "encrypted token (JWE): sesame cannot read it" {
		t.Errorf("ErrEncrypted says %q", inspect.ErrEncrypted)
	}
}

func TestCancelled(t *testing.T) {
	p := newIdP(t, "RS256")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := inspect.Inspect(ctx, p.SignIDToken(p.Claims()), inspect.Options{Issuer: p.Issuer}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestExplain(t *testing.T) {
	for _, c := range strings.Fields(`sub iss aud azp exp nbf iat auth_time amr acr sid nonce at_hash c_hash
		scope client_id jti email email_verified name preferred_username organization_id organizations
		organization_roles roles typ cnf act may_act updated_at groups`) {
		if e := inspect.Explain(c); e == "" || strings.Contains(e, "\n") {
			t.Errorf("Explain(%q) = %q", c, e)
		}
	}
	if e := inspect.Explain("https://example.com/custom"); e != "" {
		t.Errorf("unknown claim explained: %q", e)
	}
}

func detail(r *inspect.Report, name string) string {
	for _, c := range r.Checks {
		if c.Name == name {
			return c.Detail
		}
	}
	return "<no " + name + " check>"
}

// hs256 forges the algorithm-confusion token: HMAC keyed with the
// provider's public key, which anyone can download.
func hs256(t *testing.T, p *testidp.IdP) string {
	pub, err := x509.MarshalPKIXPublicKey(p.Key().Public().Key)
	if err != nil {
		t.Fatal(err)
	}
	return testidp.ForgeJWT(map[string]any{"alg": "HS256", "kid": p.Key().KeyID}, p.Claims(), func(in []byte) []byte {
		m := hmac.New(sha256.New, pub)
		m.Write(in)
		return m.Sum(nil)
	})
}

// TestUnpinnedIssuerIsNeverValid: with no expected issuer and no JWKS URL,
// the token names the server whose keys vouch for it. A forger's token,
// signed by the forger's key and naming the forger's issuer, verifies
// perfectly, so the signature proves nothing and the verdict must say so.
func TestUnpinnedIssuerIsNeverValid(t *testing.T) {
	forger := newIdP(t, "RS256")
	r, err := inspect.Inspect(context.Background(), forger.SignIDToken(forger.Claims()), inspect.Options{Now: at(5 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	var sig, iss inspect.Check
	for _, c := range r.Checks {
		switch c.Name {
		case "signature":
			sig = c
		case "iss":
			iss = c
		}
	}
	if r.Valid || !sig.OK || iss.OK || !strings.Contains(iss.Detail, "proves nothing") || !strings.Contains(iss.Detail, "--issuer") {
		t.Fatalf("valid=%v signature=%+v iss=%+v", r.Valid, sig, iss)
	}
}

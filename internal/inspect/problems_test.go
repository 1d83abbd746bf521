package inspect_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sesame-cli/sesame/internal/inspect"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// TestProblems: each token is wrong in one way, and exactly the checks
// named in fail must fail, with a problem that says why.
func TestProblems(t *testing.T) {
	p := newIdP(t, "RS256")
	other := newIdP(t, "RS256")
	jwksURL := p.Endpoint("/jwks")
	kid := p.Key().KeyID
	honest := p.SignIDToken(p.Claims())
	header, payload, _ := strings.Cut(honest, ".")
	payload, sig, _ := strings.Cut(payload, ".")
	with := func(k string, v any) string {
		c := p.Claims()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return p.SignIDToken(c)
	}
	pub := p.Key().Public()
	keyAs := func(alg, use string) []jose.JSONWebKey {
		k := pub
		k.Algorithm, k.Use = alg, use
		return []jose.JSONWebKey{k}
	}
	rotated, rotatedHits := jwksServer(t, func(n int) []jose.JSONWebKey {
		if n == 1 {
			return []jose.JSONWebKey{} // a cached set from before the key was published
		}
		return []jose.JSONWebKey{pub}
	})
	psKey, _ := jwksServer(t, func(int) []jose.JSONWebKey { return keyAs("PS256", "sig") })
	encKey, _ := jwksServer(t, func(int) []jose.JSONWebKey { return keyAs("", "enc") })
	ecKey := newIdP(t, "ES256").Key().Public()
	ecSet, _ := jwksServer(t, func(int) []jose.JSONWebKey { return []jose.JSONWebKey{ecKey} })
	// 28 bytes, so that base64url pads it.
	padded := base64.URLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT" }`))

	for _, tc := range []struct {
		name  string
		token string
		o     inspect.Options
		fail  []string // the failing checks, "malformed" included
		want  string   // in the first problem
	}{
		{"flipped signature", header + "." + payload + "." + flip(sig), inspect.Options{}, []string{"signature"}, "signature: RS256 signature does not verify against key kid=" + kid},
		{"expired", honest, inspect.Options{Now: at(2 * time.Hour)}, []string{"exp"}, "exp: expired 1h ago (2026-11-22T10:00:00Z)"},
		{"expired without skew", with("exp", issued.Add(4*time.Minute).Unix()), inspect.Options{Skew: -1}, []string{"exp"}, "exp: expired 1m ago"},
		{"no exp", with("exp", nil), inspect.Options{}, []string{"exp"}, "exp: no exp claim"},
		{"exp in milliseconds", with("exp", issued.Add(time.Hour).UnixMilli()), inspect.Options{}, []string{"exp"}, "milliseconds"},
		{"wrong audience", honest, inspect.Options{Audience: "someone-else"}, []string{"aud"}, `aud: [test-client] does not include "someone-else"`},
		{"trailing slash", honest, inspect.Options{Issuer: p.Issuer + "/", JWKSURL: jwksURL}, []string{"iss"}, "a trailing slash differs"},
		{"another provider's token", honest, inspect.Options{Issuer: other.Issuer}, []string{"signature", "iss"}, `no key with kid "` + kid + `" in ` + other.Endpoint("/jwks")},
		{"nbf in the future", with("nbf", issued.Add(10*time.Minute).Unix()), inspect.Options{}, []string{"nbf"}, "nbf: not valid until 2026-11-22T09:10:00Z, in 5m"},
		{"iat in the future", with("iat", issued.Add(7*time.Minute).Unix()), inspect.Options{}, []string{"iat"}, "iat: issued 2m in the future"},
		{"no iss", with("iss", nil), inspect.Options{}, []string{"iss"}, "iss: no iss claim"},
		{"alg none", testidp.ForgeJWT(map[string]any{"alg": "none", "kid": kid}, p.Claims(), nil), inspect.Options{}, []string{"signature"}, "signature: the token is unsigned (alg none)"},
		{"HS256 keyed with the public key", hs256(t, p), inspect.Options{}, []string{"signature"}, "signature: HS256 is refused: a provider's public key is not a shared secret (algorithm confusion, RFC 8725 §2.1)"},
		{"unknown alg", testidp.ForgeJWT(map[string]any{"alg": "RSA-OAEP"}, p.Claims(), nil), inspect.Options{}, []string{"signature"}, `alg "RSA-OAEP" is not a signature algorithm`},
		{"retired kid", testidp.ForgeJWT(map[string]any{"alg": "RS256", "kid": "2019-key"}, p.Claims(), signRS256(t, p)), inspect.Options{}, []string{"signature"}, `signature: no key with kid "2019-key" in ` + jwksURL + ", even after fetching it again (it has kid=" + kid},
		{"unknown critical header", testidp.ForgeJWT(map[string]any{"alg": "RS256", "kid": kid, "crit": []string{"x-policy"}, "x-policy": 1}, p.Claims(), signRS256(t, p)), inspect.Options{}, []string{"signature"}, "RS256 signature cannot be checked with key kid=" + kid},
		{"JWKS key for another alg", honest, inspect.Options{JWKSURL: psKey}, []string{"signature"}, "key kid=" + kid + " is for PS256, not RS256"},
		{"JWKS key for encryption", honest, inspect.Options{JWKSURL: encKey}, []string{"signature"}, "is an encryption key (use enc)"},
		{"no kid and no key that fits", testidp.ForgeJWT(map[string]any{"alg": "RS256"}, p.Claims(), signRS256(t, p)), inspect.Options{JWKSURL: ecSet}, []string{"signature"}, "the token has no kid and no key in " + ecSet + " fits RS256"},
		{"JWKS unreachable", honest, inspect.Options{JWKSURL: closedURL(t) + "/jwks"}, []string{"signature"}, "signature: could not fetch the keys"},
		{"discovery unreachable", honest, inspect.Options{Issuer: closedURL(t)}, []string{"signature", "iss"}, "signature: could not discover the keys of http://127.0.0.1"},
		{"malformed base64", header + ".e30!." + sig, inspect.Options{}, []string{"malformed", "signature"}, "malformed: the payload is not base64url"},
		{"padded header", padded + "." + payload + "." + sig, inspect.Options{}, []string{"malformed", "signature"}, `malformed: the header is padded with "="`},
		{"base64 alphabet", header + "." + payload + "." + strings.NewReplacer("-", "+", "_", "/").Replace(sig) + "+/", inspect.Options{}, []string{"malformed", "signature"}, "malformed: the signature uses the base64 alphabet"},
		{"payload not JSON", header + "." + b64("hello") + "." + sig, inspect.Options{}, []string{"malformed", "signature"}, "malformed: the payload is not a JSON object"},
		{"two segments", header + "." + payload, inspect.Options{}, []string{"malformed", "signature"}, "malformed: the token has 2 segments; a signed JWT has 3"},
		{"no alg", b64(`{"typ":"JWT"}`) + "." + payload + "." + sig, inspect.Options{}, []string{"malformed", "signature"}, "malformed: the header has no alg"},
		{"too big", header + "." + b64(`{"x":"`+strings.Repeat("a", 70000)+`"}`) + "." + sig, inspect.Options{}, []string{"malformed"}, "bytes; sesame reads at most 65536"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.o.Issuer == "" && tc.o.JWKSURL == "" {
				tc.o.Issuer = p.Issuer
			}
			if tc.o.Now == nil {
				tc.o.Now = at(5 * time.Minute)
			}
			r, err := inspect.Inspect(context.Background(), tc.token, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, prob := range r.Problems {
				name, _, _ := strings.Cut(prob, ": ")
				failed = append(failed, name)
			}
			if r.Valid || strings.Join(failed, ",") != strings.Join(tc.fail, ",") {
				t.Fatalf("valid=%v, problems:\n%s", r.Valid, strings.Join(r.Problems, "\n"))
			}
			if !strings.Contains(r.Problems[0], tc.want) {
				t.Errorf("problem %q\nwant it to contain %q", r.Problems[0], tc.want)
			}
		})
	}

	r, err := inspect.Inspect(context.Background(), honest, inspect.Options{JWKSURL: rotated, Now: at(0)})
	if err != nil || !r.Valid || rotatedHits.Load() != 2 {
		t.Errorf("rotated key: %v, %d fetches (want 2): %v", r.Problems, rotatedHits.Load(), err)
	}
	// Neither an issuer nor a JWKS URL, and no iss: nowhere to find keys.
	r, err = inspect.Inspect(context.Background(), with("iss", nil), inspect.Options{Now: at(0)})
	if want := "signature: cannot find the keys: the token has no iss"; err != nil || r.Valid || !strings.HasPrefix(r.Problems[0], want) {
		t.Errorf("no iss, nothing given: %q, %v; want %q", r.Problems, err, want)
	}
}

// flip changes one character in the middle of a base64url segment.
func flip(s string) string {
	i := len(s) / 2
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

package inspect_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-jose/go-jose/v4"

	"github.com/sesame-cli/sesame/internal/inspect"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// fuzzNow is the clock of every fuzzed inspection, so that whether a seed
// is valid does not depend on the day the fuzzer runs.
var fuzzNow = time.Date(2026, 11, 22, 9, 5, 0, 0, time.UTC)

// Key ids of the fixed keys in the fuzz JWK Set.
const (
	fuzzEdKid  = "fuzz-ed25519"
	fuzzECKid  = "fuzz-es256"
	fuzzPSKid  = "fuzz-ps256-only"
	fuzzEncKid = "fuzz-enc"
	fuzzOctKid = "fuzz-hmac"
)

// fuzzKeys are fixed signing keys, so that tokens signed with them stay
// valid in a committed corpus: Ed25519 from a constant seed (once with a
// kid, once without) and P-256 from a constant scalar.
func fuzzKeys(t testing.TB) (ed, edNoKid ed25519.PrivateKey, ec *ecdsa.PrivateKey) {
	ed = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x5e}, ed25519.SeedSize))
	edNoKid = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x5a}, ed25519.SeedSize))
	ec, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return ed, edNoKid, ec
}

// fuzzSign makes a compact JWS of claims with key; extra goes into the
// protected header.
func fuzzSign(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any, extra map[jose.HeaderKey]any) string {
	t.Helper()
	o := (&jose.SignerOptions{}).WithType("JWT")
	for k, v := range extra {
		o = o.WithHeader(k, v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, o)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fuzzClaims are the claims of a token that is valid at fuzzNow.
func fuzzClaims(iss string) map[string]any {
	return map[string]any{
		"iss": iss, "sub": "user-1", "aud": "test-client",
		"iat": fuzzNow.Add(-5 * time.Minute).Unix(), "exp": fuzzNow.Add(55 * time.Minute).Unix(),
	}
}

func fuzzSeg(v any) string {
	if s, ok := v.(string); ok {
		return base64.RawURLEncoding.EncodeToString([]byte(s))
	}
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// FuzzInspect feeds arbitrary token text to Inspect against a fixed JWK Set
// on a local server, and renders every report. It checks that a report is
// valid only when a signature from that set verifies it (checked again
// here, with go-jose directly) and every claim check passed; that Valid and
// Problems agree; that "none" and HMAC never pass; and that Render, the
// part that writes token text to a terminal, never passes on a control
// character or an escape sequence the token carries.
func FuzzInspect(f *testing.F) {
	idp := testidp.New(f, testidp.Options{Path: "/oidc", Now: func() time.Time { return fuzzNow.Add(-5 * time.Minute) }})
	ed, edNoKid, ec := fuzzKeys(f)
	rsaPub := idp.Key().Public()
	psOnly := rsaPub
	psOnly.KeyID, psOnly.Algorithm = fuzzPSKid, "PS256"
	set := []jose.JSONWebKey{
		rsaPub,
		{Key: ed.Public(), KeyID: fuzzEdKid, Algorithm: "EdDSA", Use: "sig"},
		{Key: edNoKid.Public()},
		{Key: &ec.PublicKey, KeyID: fuzzECKid},
		psOnly,
		{Key: &ec.PublicKey, KeyID: fuzzEncKid, Use: "enc"},
		{Key: []byte("a shared secret that never verifies a provider token"), KeyID: fuzzOctKid, Algorithm: "HS256"},
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: set})
	if err != nil {
		f.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(jwks)
	}))
	f.Cleanup(srv.Close)
	jwksURL := srv.URL + "/jwks"
	pinned := inspect.Options{Issuer: idp.Issuer, JWKSURL: jwksURL, Audience: idp.ClientID()}
	unpinned := inspect.Options{JWKSURL: jwksURL}

	// Seeds: honest tokens of the test provider and of the fixed keys,
	// then forgeries and malformations.
	honest := idp.SignIDToken(idp.Claims())
	h, rest, _ := strings.Cut(honest, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	withClaim := func(k string, v any) string {
		c := idp.Claims()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return idp.SignIDToken(c)
	}
	hostile := idp.Claims()
	hostile["name"] = "Eve\x1b[2J\x1b]8;;http://evil\x07\u202eoops\u0085\u009b31m\x00"
	hostile["\x1b[31mred"] = "key with an escape"
	hostile["https://example.com/claims/"+strings.Repeat("tenant/", 20)] = strings.Repeat("wide ", 100)
	hostile["nested"] = map[string]any{"a": []any{1, "\x1b", nil, 1.5e300}}
	hostile["emoji"] = "👩‍💻 ﷽ 𝕏"
	hostile["aud"] = []string{"https://api.example", idp.ClientID()}
	hostile["azp"] = idp.ClientID()
	der, _ := x509.MarshalPKIXPublicKey(rsaPub.Key)
	mac := func(secret []byte) func([]byte) []byte {
		return func(in []byte) []byte { m := hmac.New(sha256.New, secret); m.Write(in); return m.Sum(nil) }
	}
	edClaims := fuzzClaims("https://idp.example")
	seeds := []string{
		honest,
		"Bearer " + honest,
		" \t" + honest + "\r\n",
		idp.SignIDToken(hostile),
		withClaim("exp", fuzzNow.Add(-time.Hour).Unix()),
		withClaim("exp", fuzzNow.Add(time.Hour).UnixMilli()),
		withClaim("exp", "tomorrow"),
		withClaim("exp", nil),
		withClaim("nbf", fuzzNow.Add(time.Hour).Unix()),
		withClaim("iat", fuzzNow.Add(time.Hour).Unix()),
		withClaim("iss", idp.Issuer+"/"),
		withClaim("iss", 42),
		withClaim("aud", []any{"x", 1}),
		withClaim("exp", 1e300),
		withClaim("exp", -1),
		fuzzSign(f, jose.EdDSA, ed, fuzzEdKid, edClaims, nil),
		fuzzSign(f, jose.EdDSA, edNoKid, "", edClaims, nil),
		fuzzSign(f, jose.ES256, ec, fuzzECKid, edClaims, nil),
		fuzzSign(f, jose.ES256, ec, fuzzEncKid, edClaims, nil),
		fuzzSign(f, jose.ES256, ec, "", edClaims, nil),
		fuzzSign(f, jose.EdDSA, ed, rsaPub.KeyID, edClaims, nil),
		fuzzSign(f, jose.PS256, idp.Key().Key, fuzzPSKid, idp.Claims(), nil),
		fuzzSign(f, jose.RS256, idp.Key().Key, fuzzPSKid, idp.Claims(), nil),
		fuzzSign(f, jose.EdDSA, ed, fuzzEdKid, edClaims, map[jose.HeaderKey]any{"crit": []string{"exp"}, "exp": 1}),
		fuzzSign(f, jose.EdDSA, ed, fuzzEdKid, edClaims, map[jose.HeaderKey]any{"jku": "https://evil.example/jwks", "x5u": "https://evil.example/cert"}),
		// alg none, in any case, and HMAC keyed with the provider's public
		// key or with the JWKS's own oct key.
		testidp.ForgeJWT(map[string]any{"alg": "none"}, idp.Claims(), nil),
		testidp.ForgeJWT(map[string]any{"alg": "NoNe", "kid": rsaPub.KeyID}, idp.Claims(), nil),
		testidp.ForgeJWT(map[string]any{"alg": "none"}, idp.Claims(), func([]byte) []byte { return []byte(sig) }),
		testidp.ForgeJWT(map[string]any{"alg": "HS256", "kid": rsaPub.KeyID}, idp.Claims(), mac(der)),
		testidp.ForgeJWT(map[string]any{"alg": "HS256", "kid": fuzzOctKid}, idp.Claims(), mac([]byte("a shared secret that never verifies a provider token"))),
		testidp.ForgeJWT(map[string]any{"alg": "HS512"}, idp.Claims(), mac(nil)),
		testidp.ForgeJWT(map[string]any{"alg": "RS256", "jwk": rsaPub}, idp.Claims(), nil),
		testidp.ForgeJWT(map[string]any{"alg": "RSA-OAEP"}, idp.Claims(), nil),
		testidp.ForgeJWT(map[string]any{"alg": 256}, idp.Claims(), nil),
		testidp.ForgeJWT(map[string]any{"alg": "RS256", "kid": 7}, idp.Claims(), nil),
		testidp.ForgeJWT(map[string]any{}, idp.Claims(), nil),
		// Reassembled and damaged honest tokens.
		h + "." + payload + "." + sig + "A",
		h + "." + fuzzSeg(`{"iss":"`+idp.Issuer+`","exp":9999999999}`) + "." + sig,
		h + "." + payload + ".",
		h + "." + payload,
		h + "." + payload + "." + sig + "." + sig,
		h + ".." + sig,
		h + "." + fuzzSeg("[1,2]") + "." + sig,
		h + "." + fuzzSeg(`{"a":1} {"b":2}`) + "." + sig,
		h + "." + fuzzSeg("null") + "." + sig,
		h + "." + fuzzSeg("") + "." + sig,
		// JWE shapes: five segments, or a header with enc.
		fuzzSeg(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + ".a.b.c.d",
		h + ".a.b.c.d",
		fuzzSeg(`{"alg":"dir","enc":"A128GCM"}`) + "." + payload + "." + sig,
		// Base64 that is padded, standard rather than URL, or neither.
		base64.URLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT" }`)) + "." + payload + "." + sig,
		base64.StdEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":"??>"}`)) + "." + base64.StdEncoding.EncodeToString([]byte(`{"sub":"~~~>>>"}`)) + "." + sig + "==",
		"eyJ!" + "." + payload + "." + sig,
		// Huge segments, either side of the size limit.
		fuzzSeg(map[string]any{"alg": "EdDSA", "kid": strings.Repeat("k", 1000)}) + "." + fuzzSeg(map[string]any{"pad": strings.Repeat("x", inspect.MaxTokenSize/2)}) + "." + sig,
		h + "." + strings.Repeat("A", inspect.MaxTokenSize) + "." + sig,
		// Unicode and raw bytes where JSON expects text.
		fuzzSeg(`{"alg":"EdDSA","kid":"ключ‮"}`) + "." + fuzzSeg("{\"sub\":\"\xff\xfe\",\"name\":\"a\u2028b\u200f\",\"\xc0\":1}") + "." + sig,
		fuzzSeg(`{"alg":"ES256","typ":"\u001b[2J"}`) + "." + fuzzSeg(`{"x":"\u0007\u009b\u202e"}`) + ".",
		// Not JWTs at all.
		"", ".", "..", "....", "Bearer ", "opaque-token-1234", "e30", "e30.e30.", "e30.e30.e30", "bnVsbA.e30.", "W10.e30.",
		"\x00\x1b[31m", "\u202e\u0000.\u0000.\u0000",
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}

	hc := srv.Client()
	f.Fuzz(func(t *testing.T, raw string, pin bool) {
		o := unpinned
		if pin {
			o = pinned
		}
		o.HTTP, o.Now = hc, func() time.Time { return fuzzNow }
		r, err := inspect.Inspect(context.Background(), raw, o)
		if err != nil {
			if r != nil || !errors.Is(err, inspect.ErrNotJWT) && !errors.Is(err, inspect.ErrEncrypted) {
				t.Fatalf("report %v and error %v", r, err)
			}
			return
		}
		if r == nil {
			t.Fatal("no report and no error")
		}
		checkReport(t, r, raw, o, set)

		for _, color := range []bool{false, true} {
			var b bytes.Buffer
			inspect.Render(&b, r, fuzzNow, color)
			checkRendered(t, b.String(), r, color)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("the report does not marshal: %v", err)
		}
	})
}

// checkReport holds the invariants of a report on its own and against the
// JWK Set the inspection used.
func checkReport(t *testing.T, r *inspect.Report, raw string, o inspect.Options, set []jose.JSONWebKey) {
	t.Helper()
	if r.Problems == nil || r.Checks == nil {
		t.Fatalf("nil problems %v or checks %v (JSON would say null)", r.Problems, r.Checks)
	}
	if !strings.Contains(raw, r.Token) || strings.TrimSpace(r.Token) != r.Token {
		t.Fatalf("token %q is not the trimmed input", r.Token)
	}
	if r.Valid != (len(r.Problems) == 0) {
		t.Fatalf("valid %v with problems %q", r.Valid, r.Problems)
	}
	failed := 0
	for _, c := range r.Checks {
		if !c.OK {
			failed++
		}
	}
	if len(r.Problems) < failed {
		t.Fatalf("%d failed checks but only problems %q", failed, r.Problems)
	}
	alg, _ := r.Header["alg"].(string)
	if !r.Valid {
		return
	}
	if strings.EqualFold(alg, "none") || strings.HasPrefix(strings.ToUpper(alg), "HS") {
		t.Fatalf("alg %q passed", alg)
	}
	names := map[string]inspect.Check{}
	for _, c := range r.Checks {
		names[c.Name] = c
	}
	for _, want := range []string{"signature", "iss", "aud", "exp", "nbf", "iat"} {
		if c, ok := names[want]; !ok || !c.OK || c.Detail == "" {
			t.Fatalf("valid without a passing %s check: %+v", want, r.Checks)
		}
	}

	// The signature, checked again without inspect: some key of the set
	// that may sign with alg, and that has the token's kid if it names
	// one, verifies it.
	jws, err := jose.ParseSignedCompact(r.Token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatalf("valid, but go-jose cannot parse it: %v", err)
	}
	kid, hasKid := r.Header["kid"].(string)
	verified := false
	for _, k := range set {
		if _, symmetric := k.Key.([]byte); symmetric || k.Use == "enc" || k.Algorithm != "" && k.Algorithm != alg || hasKid && k.KeyID != kid {
			continue
		}
		if _, err := jws.Verify(k.Public()); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		t.Fatalf("valid, but no usable key of the set verifies it (alg %q, kid %q)", alg, kid)
	}

	// The claims, checked again: exp present and not past, nbf and iat
	// not in the future, beyond the default skew.
	date := func(name string) (time.Time, bool) {
		n, ok := r.Claims[name].(json.Number)
		if !ok {
			return time.Time{}, false
		}
		f, err := n.Float64()
		if err != nil {
			t.Fatalf("valid with %s %v", name, n)
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), true
	}
	if exp, ok := date("exp"); !ok || !fuzzNow.Before(exp.Add(inspect.DefaultSkew)) {
		t.Fatalf("valid with exp %v", r.Claims["exp"])
	}
	for _, name := range []string{"nbf", "iat"} {
		if at, ok := date(name); ok && at.After(fuzzNow.Add(inspect.DefaultSkew)) {
			t.Fatalf("valid with %s %v in the future", name, r.Claims[name])
		} else if !ok && r.Claims[name] != nil {
			t.Fatalf("valid with %s %v", name, r.Claims[name])
		}
	}
	if o.Issuer != "" && r.Claims["iss"] != o.Issuer {
		t.Fatalf("valid with iss %v, expected %q", r.Claims["iss"], o.Issuer)
	}
	if o.Audience != "" {
		found := r.Claims["aud"] == o.Audience
		if list, ok := r.Claims["aud"].([]any); ok {
			for _, a := range list {
				found = found || a == o.Audience
			}
		}
		if !found {
			t.Fatalf("valid with aud %v, expected %q", r.Claims["aud"], o.Audience)
		}
	}
}

// ANSI colour sequences Render itself may write when asked for colour.
var fuzzSGR = strings.NewReplacer("\x1b[32m", "", "\x1b[31m", "", "\x1b[2m", "", "\x1b[0m", "")

// checkRendered: the output is text a terminal shows as is. Without colour
// it has no escape at all; with colour, none but Render's own.
func checkRendered(t *testing.T, out string, r *inspect.Report, color bool) {
	t.Helper()
	text := out
	if color {
		text = fuzzSGR.Replace(out)
	}
	if !utf8.ValidString(text) {
		t.Fatalf("color=%v: output is not UTF-8: %q", color, out)
	}
	for _, c := range text {
		if c != '\n' && unicode.IsControl(c) || unicode.Is(unicode.Bidi_Control, c) {
			t.Fatalf("color=%v: output has %U:\n%q", color, c, out)
		}
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	last := lines[len(lines)-1]
	if (last == "valid") != r.Valid || !r.Valid && !strings.HasPrefix(last, "INVALID") {
		t.Fatalf("color=%v: verdict %q for valid=%v", color, last, r.Valid)
	}
}

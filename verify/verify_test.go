package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sesame-cli/sesame/verify"
)

func TestVerify(t *testing.T) {
	b, v, clk, c := setup(t)
	tok := b.token(t, b.claims(clk.Now(), c.jkt))
	got, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	want := verify.Claims{Issuer: b.URL, Subject: "alice", IDP: "github", SessionID: "s-1", Email: "alice@example.com",
		Name: "Alice", JTI: "t-1", JKT: c.jkt, AuthTime: t0.Add(-time.Minute), IssuedAt: t0, Expiry: t0.Add(5 * time.Minute)}
	got.Raw = nil
	if !got.AuthTime.Equal(want.AuthTime) || !got.IssuedAt.Equal(want.IssuedAt) || !got.Expiry.Equal(want.Expiry) {
		t.Errorf("times: got %v %v %v", got.AuthTime, got.IssuedAt, got.Expiry)
	}
	got.AuthTime, got.IssuedAt, got.Expiry = want.AuthTime, want.IssuedAt, want.Expiry
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("got  %+v\nwant %+v", *got, want)
	}

	// Leeway: a token expired 20 s ago, or issued 20 s ahead, still passes.
	clk.Add(5*time.Minute + 20*time.Second)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Errorf("within the leeway: %v", err)
	}
	early := b.claims(clk.Now().Add(20*time.Second), "")
	if _, err := v.Verify(context.Background(), b.token(t, early)); err != nil {
		t.Errorf("iat within the leeway: %v", err)
	}
	if b.jwksHits.Load() != 1 {
		t.Errorf("the key set was fetched %d times, want once", b.jwksHits.Load())
	}

	// typ is a media type: its case does not matter, nor does
	// "application/" (RFC 7515 §4.1.9).
	for _, typ := range []jose.ContentType{"AT+JWT", "application/at+jwt"} {
		tok := signJWS(t, jose.ES256, jose.JSONWebKey{Key: b.signing, KeyID: kid(t, &b.signing.PublicKey)},
			(&jose.SignerOptions{}).WithType(typ), b.claims(clk.Now(), ""))
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Errorf("typ %s: %v", typ, err)
		}
	}
}

// Every way a token can be wrong is refused as an invalid token, and the
// message never repeats it.
func TestVerifyRefusals(t *testing.T) {
	b, v, clk, c := setup(t)
	now := clk.Now()
	good := func(f func(m map[string]any)) string {
		m := b.claims(now, c.jkt)
		f(m)
		return b.token(t, m)
	}
	sk := b.signing
	pubDER, _ := x509.MarshalPKIXPublicKey(&sk.PublicKey)
	es256 := func(input []byte) []byte {
		d := sha256.Sum256(input)
		r, s, _ := ecdsa.Sign(rand.Reader, sk, d[:])
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	}
	header := func(f func(h map[string]any)) map[string]any {
		h := map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": kid(t, &sk.PublicKey)}
		f(h)
		return h
	}
	valid := b.token(t, b.claims(now, c.jkt))
	parts := strings.Split(valid, ".")
	other := newECKey(t)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)

	for name, tc := range map[string]struct {
		token, msg string
	}{
		"wrong iss":       {good(func(m map[string]any) { m["iss"] = b.URL + "/other" }), "another issuer"},
		"iss with slash":  {good(func(m map[string]any) { m["iss"] = b.URL + "/" }), "another issuer"},
		"expired":         {good(func(m map[string]any) { m["exp"] = now.Add(-31 * time.Second).Unix() }), "expired"},
		"no exp":          {good(func(m map[string]any) { delete(m, "exp") }), "no expiry"},
		"exp a string":    {good(func(m map[string]any) { m["exp"] = "tomorrow" }), "exp claim is not a date"},
		"nbf future":      {good(func(m map[string]any) { m["nbf"] = now.Add(time.Minute).Unix() }), "not valid yet"},
		"iat future":      {good(func(m map[string]any) { m["iat"] = now.Add(time.Minute).Unix() }), "in the future"},
		"no iat":          {good(func(m map[string]any) { delete(m, "iat") }), "no issued-at time"},
		"no sub":          {good(func(m map[string]any) { delete(m, "sub") }), "no subject"},
		"empty sid":       {good(func(m map[string]any) { m["sid"] = "" }), "no session"},
		"sub a number":    {good(func(m map[string]any) { m["sub"] = 42 }), "sub claim is not a string"},
		"cnf without jkt": {good(func(m map[string]any) { m["cnf"] = map[string]any{"x5t#S256": "abc"} }), "other than DPoP"},
		"alg none": {rawJWS(map[string]any{"alg": "none", "typ": "at+jwt", "kid": kid(t, &sk.PublicKey)}, b.claims(now, ""), nil),
			"compact form"},
		"alg none, signed": {rawJWS(header(func(h map[string]any) { h["alg"] = "none" }), b.claims(now, ""), es256), "not signed with ES256"},
		"HS256 with the public key": {signJWS(t, jose.HS256, pubDER, (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid(t, &sk.PublicKey)), b.claims(now, "")),
			"not signed with ES256"},
		"ES384": {signJWS(t, jose.ES384, jose.JSONWebKey{Key: p384, KeyID: "k"}, nil, b.claims(now, "")), "not signed with ES256"},
		"typ missing": {signJWS(t, jose.ES256, jose.JSONWebKey{Key: sk, KeyID: kid(t, &sk.PublicKey)}, nil, b.claims(now, "")),
			"typ is not at+jwt"},
		"typ JWT": {signJWS(t, jose.ES256, jose.JSONWebKey{Key: sk, KeyID: kid(t, &sk.PublicKey)}, (&jose.SignerOptions{}).WithType("JWT"), b.claims(now, "")),
			"typ is not at+jwt"},
		"typ dpop+jwt": {rawJWS(header(func(h map[string]any) { h["typ"] = "dpop+jwt" }), b.claims(now, ""), es256), "typ is not at+jwt"},
		"no kid":       {rawJWS(header(func(h map[string]any) { delete(h, "kid") }), b.claims(now, ""), es256), "names no key"},
		"crit":         {rawJWS(header(func(h map[string]any) { h["crit"] = []string{"exp"}; h["exp"] = 1 }), b.claims(now, ""), es256), "extensions"},
		"signed by another key, same kid": {signJWS(t, jose.ES256, jose.JSONWebKey{Key: other, KeyID: kid(t, &sk.PublicKey)}, (&jose.SignerOptions{}).WithType("at+jwt"), b.claims(now, "")),
			"signature does not verify"},
		"payload swapped":    {parts[0] + "." + strings.Split(good(func(m map[string]any) { m["sub"] = "mallory" }), ".")[1] + "." + parts[2], "signature does not verify"},
		"signature cut":      {parts[0] + "." + parts[1] + "." + parts[2][:40], "signature does not verify"},
		"padding":            {valid + "=", "compact form"},
		"newline":            {parts[0] + "\n." + parts[1] + "." + parts[2], "compact form"},
		"four parts":         {valid + ".x", "compact form"},
		"empty":              {"", "compact form"},
		"JSON serialization": {`{"payload":"` + parts[1] + `"}`, "compact form"},
		"too long":           {good(func(m map[string]any) { m["pad"] = strings.Repeat("x", 20000) }), "compact form"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tc.token)
			if !errors.Is(err, verify.ErrInvalidToken) {
				t.Fatalf("got %v, want an invalid token", err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %q, want it to say %q", err, tc.msg)
			}
			noSecrets(t, err.Error(), tc.token, strings.Split(tc.token+"..", ".")[2])
		})
	}
}

// A payload that is not JSON, signed properly, is refused after the
// signature.
func TestVerifyPayloadNotJSON(t *testing.T) {
	b, v, _, _ := setup(t)
	s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: b.signing, KeyID: kid(t, &b.signing.PublicKey)}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	obj, _ := s.Sign([]byte("hello"))
	tok, _ := obj.CompactSerialize()
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, verify.ErrInvalidToken) || !strings.Contains(err.Error(), "not a JSON object") {
		t.Errorf("got %v", err)
	}
}

func TestVerifierConfig(t *testing.T) {
	for _, issuer := range []string{"", "http://broker.example.com", "ftp://127.0.0.1", "https://broker.example.com?x=1", "/relative"} {
		v := &verify.Verifier{Issuer: issuer}
		_, err := v.Verify(context.Background(), "a.b.c")
		if err == nil || !strings.Contains(err.Error(), "Issuer") {
			t.Errorf("Issuer %q: got %v", issuer, err)
		}
	}
}

package verify_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sesame-cli/sesame/verify"
)

const apiURL = "http://api.example.com/v1/things"

func TestVerifyRequest(t *testing.T) {
	b, v, clk, c := setup(t)
	tok := b.token(t, b.claims(clk.Now(), c.jkt))
	r := request("GET", apiURL+"?page=2", "DPoP", tok, c.proof(t, proofClaims("GET", apiURL, tok, clk.Now())))
	got, err := v.VerifyRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "alice" || got.JKT != c.jkt {
		t.Errorf("got %+v", got)
	}

	// An EdDSA key, a proof a little ahead or behind, a scheme in
	// another case, a URL spelled differently.
	ed := newEdCLI(t)
	edTok := b.token(t, b.claims(clk.Now(), ed.jkt))
	for name, r := range map[string]*http.Request{
		"EdDSA":                request("POST", apiURL, "DPoP", edTok, ed.proof(t, proofClaims("POST", apiURL, edTok, clk.Now()))),
		"iat ahead":            request("GET", apiURL, "DPoP", tok, c.proof(t, proofClaims("GET", apiURL, tok, clk.Now().Add(25*time.Second)))),
		"iat 80 s ago":         request("GET", apiURL, "DPoP", tok, c.proof(t, proofClaims("GET", apiURL, tok, clk.Now().Add(-80*time.Second)))),
		"scheme in lower case": request("GET", apiURL, "dpop", tok, c.proof(t, proofClaims("GET", apiURL, tok, clk.Now()))),
		"htu spelled otherwise": request("GET", "http://api.example.com/v1/%7ealice%2f", "DPoP", tok,
			c.proof(t, proofClaims("GET", "HTTP://API.Example.COM:80/v1/~alice%2F#x", tok, clk.Now()))),
	} {
		if _, err := v.VerifyRequest(r); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	// A bearer token, bound to nothing, is presented as such.
	bearer := b.token(t, b.claims(clk.Now(), ""))
	if got, err := v.VerifyRequest(request("GET", apiURL, "Bearer", bearer, "")); err != nil || got.JKT != "" {
		t.Errorf("bearer: %+v, %v", got, err)
	}
}

// Behind a TLS-terminating proxy, or with TLS of its own, the API checks
// the URL the client used.
func TestVerifyRequestPublicURL(t *testing.T) {
	b, v, clk, c := setup(t)
	tok := b.token(t, b.claims(clk.Now(), c.jkt))
	const public = "https://api.example.com/things"

	r := request("GET", "http://10.0.0.7:8080/v1/things", "DPoP", tok, c.proof(t, proofClaims("GET", public, tok, clk.Now())))
	if _, err := v.VerifyRequest(r); !errors.Is(err, verify.ErrInvalidProof) {
		t.Errorf("without PublicURL: %v", err)
	}
	v.PublicURL = func(r *http.Request) string {
		return "https://api.example.com" + strings.TrimPrefix(r.URL.Path, "/v1")
	}
	r = request("GET", "http://10.0.0.7:8080/v1/things", "DPoP", tok, c.proof(t, proofClaims("GET", public, tok, clk.Now())))
	if _, err := v.VerifyRequest(r); err != nil {
		t.Errorf("with PublicURL: %v", err)
	}

	v2 := &verify.Verifier{Issuer: b.URL, Now: clk.Now}
	r = request("GET", public, "DPoP", tok, c.proof(t, proofClaims("GET", public, tok, clk.Now())))
	r.TLS = &tls.ConnectionState{}
	if _, err := v2.VerifyRequest(r); err != nil {
		t.Errorf("over TLS: %v", err)
	}
}

// Every way a request can be wrong is refused, with the kind of error
// that decides the answer, and without repeating token or proof.
func TestVerifyRequestRefusals(t *testing.T) {
	b, v, clk, c := setup(t)
	now := clk.Now()
	tok := b.token(t, b.claims(now, c.jkt))
	bearer := b.token(t, b.claims(now, ""))
	good := func(f func(m map[string]any)) string {
		m := proofClaims("GET", apiURL, tok, now)
		if f != nil {
			f(m)
		}
		return c.proof(t, m)
	}
	mallory := newCLI(t)
	priv := jose.JSONWebKey{Key: c.key}
	twice := request("GET", apiURL, "DPoP", tok, good(nil))
	twice.Header.Add("DPoP", good(nil))
	twoAuth := request("GET", apiURL, "DPoP", tok, good(nil))
	twoAuth.Header.Add("Authorization", "DPoP "+tok)

	for name, tc := range map[string]struct {
		r    *http.Request
		kind error
		msg  string
	}{
		"no Authorization":         {request("GET", apiURL, "", "", ""), verify.ErrNoToken, "no Authorization"},
		"Basic":                    {request("GET", apiURL, "Basic", "YWxpY2U6cHc=", ""), verify.ErrNoToken, "not DPoP or Bearer"},
		"two Authorization":        {twoAuth, verify.ErrInvalidRequest, "more than one Authorization"},
		"empty token":              {request("GET", apiURL, "DPoP", "", good(nil)), verify.ErrInvalidRequest, "no token"},
		"bound token as Bearer":    {request("GET", apiURL, "Bearer", tok, ""), verify.ErrInvalidToken, "bound to a DPoP key"},
		"bearer token as DPoP":     {request("GET", apiURL, "DPoP", bearer, good(nil)), verify.ErrInvalidToken, "not bound"},
		"bad token":                {request("GET", apiURL, "DPoP", tamper(tok), good(nil)), verify.ErrInvalidToken, "signature"},
		"no proof":                 {request("GET", apiURL, "DPoP", tok, ""), verify.ErrInvalidProof, "no DPoP proof"},
		"two DPoP headers":         {twice, verify.ErrInvalidProof, "more than one DPoP"},
		"proof for another URL":    {request("GET", apiURL+"/2", "DPoP", tok, good(nil)), verify.ErrInvalidProof, "another URL"},
		"proof for another host":   {request("GET", "http://api2.example.com/v1/things", "DPoP", tok, good(nil)), verify.ErrInvalidProof, "another URL"},
		"proof for https":          {request("GET", apiURL, "DPoP", tok, good(func(m map[string]any) { m["htu"] = "https://api.example.com/v1/things" })), verify.ErrInvalidProof, "another URL"},
		"proof for another method": {request("POST", apiURL, "DPoP", tok, good(nil)), verify.ErrInvalidProof, "another HTTP method"},
		"htm in lower case":        {request("GET", apiURL, "DPoP", tok, good(func(m map[string]any) { m["htm"] = "get" })), verify.ErrInvalidProof, "another HTTP method"},
		"proof too old":            {request("GET", apiURL, "DPoP", tok, good(func(m map[string]any) { m["iat"] = now.Add(-91 * time.Second).Unix() })), verify.ErrInvalidProof, "too old"},
		"proof from the future":    {request("GET", apiURL, "DPoP", tok, good(func(m map[string]any) { m["iat"] = now.Add(31 * time.Second).Unix() })), verify.ErrInvalidProof, "future"},
		"no iat":                   {request("GET", apiURL, "DPoP", tok, good(func(m map[string]any) { delete(m, "iat") })), verify.ErrInvalidProof, "no issued-at time"},
		"no jti":                   {request("GET", apiURL, "DPoP", tok, good(func(m map[string]any) { delete(m, "jti") })), verify.ErrInvalidProof, "no jti"},
		"jti a number":             {request("GET", apiURL, "DPoP", tok, good(func(m map[string]any) { m["jti"] = 7 })), verify.ErrInvalidProof, "not a string"},
		"wrong ath":                {request("GET", apiURL, "DPoP", tok, good(func(m map[string]any) { m["ath"] = b64(make([]byte, 32)) })), verify.ErrInvalidProof, "ath"},
		"no ath":                   {request("GET", apiURL, "DPoP", tok, good(func(m map[string]any) { delete(m, "ath") })), verify.ErrInvalidProof, "ath"},
		"signed by another key":    {request("GET", apiURL, "DPoP", tok, mallory.proof(t, proofClaims("GET", apiURL, tok, now))), verify.ErrInvalidProof, "another key"},
		"private key in the header": {request("GET", apiURL, "DPoP", tok, signJWS(t, jose.ES256, c.key, (&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", priv), proofClaims("GET", apiURL, tok, now))),
			verify.ErrInvalidProof, "private key"},
		"no jwk": {request("GET", apiURL, "DPoP", tok, signJWS(t, jose.ES256, c.key, (&jose.SignerOptions{}).WithType("dpop+jwt"), proofClaims("GET", apiURL, tok, now))),
			verify.ErrInvalidProof, "no public key"},
		"typ JWT": {request("GET", apiURL, "DPoP", tok, signJWS(t, jose.ES256, c.key, (&jose.SignerOptions{EmbedJWK: true}).WithType("JWT"), proofClaims("GET", apiURL, tok, now))),
			verify.ErrInvalidProof, "typ"},
		"jwk of another key": {request("GET", apiURL, "DPoP", tok, signJWS(t, jose.ES256, c.key, (&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", jose.JSONWebKey{Key: &mallory.key.(*ecdsa.PrivateKey).PublicKey}), proofClaims("GET", apiURL, tok, now))),
			verify.ErrInvalidProof, "signature"},
		"alg none": {request("GET", apiURL, "DPoP", tok, rawJWS(map[string]any{"alg": "none", "typ": "dpop+jwt", "jwk": jose.JSONWebKey{Key: &c.key.(*ecdsa.PrivateKey).PublicKey}}, proofClaims("GET", apiURL, tok, now), func([]byte) []byte { return []byte{1} })),
			verify.ErrInvalidProof, "not signed with ES256 or EdDSA"},
		"a token as proof": {request("GET", apiURL, "DPoP", tok, tok), verify.ErrInvalidProof, "typ"},
		"garbage":          {request("GET", apiURL, "DPoP", tok, "not a proof"), verify.ErrInvalidProof, "compact form"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := v.VerifyRequest(tc.r)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("got %v, want %v", err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %q, want it to say %q", err, tc.msg)
			}
			noSecrets(t, err.Error(), tok, tc.r.Header.Get("DPoP"))
		})
	}
}

func TestReplay(t *testing.T) {
	b, v, clk, c := setup(t)
	tok := b.token(t, b.claims(clk.Now(), c.jkt))
	proof := c.proof(t, proofClaims("GET", apiURL, tok, clk.Now()))
	if _, err := v.VerifyRequest(request("GET", apiURL, "DPoP", tok, proof)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{0, 50 * time.Second, 39 * time.Second} {
		clk.Add(d)
		if _, err := v.VerifyRequest(request("GET", apiURL, "DPoP", tok, proof)); !errors.Is(err, verify.ErrInvalidProof) || !strings.Contains(err.Error(), "used before") {
			t.Fatalf("replay after %v: %v", d, err)
		}
	}
	clk.Add(time.Second)
	if _, err := v.VerifyRequest(request("GET", apiURL, "DPoP", tok, proof)); !errors.Is(err, verify.ErrInvalidProof) || !strings.Contains(err.Error(), "too old") {
		t.Fatalf("once forgotten, the proof is too old: %v", err)
	}
}

// A full replay cache refuses proofs, as unavailable, rather than
// forget ones that could still be replayed; it makes room as they age.
func TestReplayCacheFull(t *testing.T) {
	b, v, clk, c := setup(t)
	v.ReplayCacheSize = 2
	tok := b.token(t, b.claims(clk.Now(), c.jkt))
	send := func() error {
		_, err := v.VerifyRequest(request("GET", apiURL, "DPoP", tok, c.proof(t, proofClaims("GET", apiURL, tok, clk.Now()))))
		return err
	}
	for range 2 {
		if err := send(); err != nil {
			t.Fatal(err)
		}
	}
	if err := send(); !errors.Is(err, verify.ErrUnavailable) {
		t.Fatalf("full: %v", err)
	}
	clk.Add(91 * time.Second)
	tok = b.token(t, b.claims(clk.Now(), c.jkt))
	if err := send(); err != nil {
		t.Fatalf("after the proofs aged: %v", err)
	}
}

func TestCheckProof(t *testing.T) {
	c := newCLI(t)
	now := t0
	// At a token endpoint there is no access token, and no ath.
	p := c.proof(t, proofClaims("POST", "https://broker.example.com/token", "", now))
	jkt, jti, err := verify.CheckProof(p, "POST", "https://broker.example.com/token", "", now, time.Minute, 0)
	if err != nil || jkt != c.jkt || jti == "" {
		t.Fatalf("got %q %q %v", jkt, jti, err)
	}
	if _, _, err := verify.CheckProof(p, "POST", "https://broker.example.com/token", "", now.Add(61*time.Second), time.Minute, 0); !errors.Is(err, verify.ErrInvalidProof) {
		t.Errorf("no leeway: %v", err)
	}
	if _, _, err := verify.CheckProof(p, "POST", "not a url", "", now, time.Minute, 0); err == nil || errors.Is(err, verify.ErrInvalidProof) {
		t.Errorf("bad URL, the caller's fault: %v", err)
	}
	// An EdDSA alg over an EC key.
	bad := signJWS(t, jose.ES256, c.key, (&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", jose.JSONWebKey{Key: newEdCLI(t).key.Public()}), proofClaims("POST", "https://b/t", "", now))
	if _, _, err := verify.CheckProof(bad, "POST", "https://b/t", "", now, time.Minute, 0); !errors.Is(err, verify.ErrInvalidProof) || !strings.Contains(err.Error(), "fit") {
		t.Errorf("alg and key: %v", err)
	}
	// An RSA key is not one the CLI makes.
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	rp := signJWS(t, jose.RS256, rk, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"), proofClaims("POST", "https://b/t", "", now))
	if _, _, err := verify.CheckProof(rp, "POST", "https://b/t", "", now, time.Minute, 0); !errors.Is(err, verify.ErrInvalidProof) {
		t.Errorf("RSA: %v", err)
	}
	// A point off the curve.
	pub := c.key.(*ecdsa.PrivateKey).PublicKey
	off := map[string]any{"kty": "EC", "crv": "P-256", "x": b64(pub.X.FillBytes(make([]byte, 32))), "y": b64(new(big.Int).Add(pub.Y, big.NewInt(1)).FillBytes(make([]byte, 32)))}
	op := signJWS(t, jose.ES256, c.key, (&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", off), proofClaims("POST", "https://b/t", "", now))
	if _, _, err := verify.CheckProof(op, "POST", "https://b/t", "", now, time.Minute, 0); !errors.Is(err, verify.ErrInvalidProof) || !strings.Contains(err.Error(), "point on P-256") {
		t.Errorf("off the curve: %v", err)
	}
}

// Thumbprint agrees with go-jose, and with RFC 7638 §3.1's example.
func TestThumbprint(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, pub := range []any{&ec.PublicKey, &ec384.PublicKey, edPub, &rk.PublicKey} {
		got, err := verify.Thumbprint(pub)
		if err != nil || got != kid(t, pub) {
			t.Errorf("%T: got %q %v, want %q", pub, got, err, kid(t, pub))
		}
	}
	var rfc jose.JSONWebKey
	if err := rfc.UnmarshalJSON([]byte(`{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB"}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := verify.Thumbprint(rfc.Key); got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Errorf("RFC 7638 §3.1: got %q", got)
	}
	if _, err := verify.Thumbprint("a key"); err == nil {
		t.Error("a string has a thumbprint")
	}
}

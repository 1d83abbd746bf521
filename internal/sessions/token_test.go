package sessions

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

const issuer = "https://broker.example"

func testSession(clk *clock) Session {
	return Session{
		ID: NewSessionID(), Subject: SubjectFor("https://idp.example", "alice"), IDP: "corp",
		Email: "alice@example.com", Name: "Alice", JKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
		AuthTime: clk.Now().Add(-time.Minute),
	}
}

func newMinter(k *Keys, clk *clock) *Minter {
	return &Minter{Issuer: issuer, Keys: k, Lifetime: time.Hour, Now: clk.Now}
}

func decodeJSON(t *testing.T, part string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMintParse(t *testing.T) {
	k, _ := newKeys(t, 1)
	clk := newClock()
	m := newMinter(k, clk)
	s := testSession(clk)
	tok, err := m.Mint(s)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	h := decodeJSON(t, parts[0])
	if len(h) != 3 || h["alg"] != "ES256" || h["typ"] != "at+jwt" || h["kid"] != k.keys[0].kid {
		t.Errorf("header = %v", h)
	}
	c := decodeJSON(t, parts[1])
	now := float64(clk.Now().Unix())
	if c["iss"] != issuer || c["sub"] != s.Subject || c["idp"] != "corp" || c["sid"] != s.ID ||
		c["iat"] != now || c["exp"] != now+3600 || c["auth_time"] != float64(s.AuthTime.Unix()) ||
		c["email"] != s.Email || c["name"] != s.Name {
		t.Errorf("claims = %v", c)
	}
	if cnf, _ := c["cnf"].(map[string]any); cnf["jkt"] != s.JKT {
		t.Errorf("cnf = %v", c["cnf"])
	}
	if jti, _ := c["jti"].(string); len(jti) != 22 {
		t.Errorf("jti %q is not 128 bits base64url", jti)
	}

	got, err := m.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := s
	want.AuthTime = s.AuthTime.UTC()
	want.IssuedAt = clk.Now()
	want.Expiry = clk.Now().Add(time.Hour)
	if *got != want {
		t.Errorf("Parse = %+v\nwant %+v", *got, want)
	}

	// An API verifying with the JWKS and a JOSE library accepts it.
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(k.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify(set.Key(jws.Signatures[0].Header.KeyID)[0]); err != nil {
		t.Errorf("go-jose refuses the signature: %v", err)
	}

	// Email and name are left out when unknown; a second token has its own jti.
	s.Email, s.Name = "", ""
	tok2, _ := m.Mint(s)
	c2 := decodeJSON(t, strings.Split(tok2, ".")[1])
	if _, ok := c2["email"]; ok {
		t.Errorf("claims carry an empty email: %v", c2)
	}
	if _, ok := c2["name"]; ok {
		t.Errorf("claims carry an empty name: %v", c2)
	}
	if c2["jti"] == c["jti"] {
		t.Error("two tokens share a jti")
	}
}

func TestMintRefuses(t *testing.T) {
	k, _ := newKeys(t, 1)
	clk := newClock()
	for name, mutate := range map[string]func(*Minter, *Session){
		"no JKT":       func(_ *Minter, s *Session) { s.JKT = "" },
		"no ID":        func(_ *Minter, s *Session) { s.ID = "" },
		"no subject":   func(_ *Minter, s *Session) { s.Subject = "" },
		"no auth time": func(_ *Minter, s *Session) { s.AuthTime = time.Time{} },
		"no issuer":    func(m *Minter, _ *Session) { m.Issuer = "" },
		"short life":   func(m *Minter, _ *Session) { m.Lifetime = time.Minute },
	} {
		m, s := newMinter(k, clk), testSession(clk)
		mutate(m, &s)
		if _, err := m.Mint(s); err == nil {
			t.Errorf("%s: minted", name)
		}
	}
}

func TestParseRotation(t *testing.T) {
	clk := newClock()
	oldKey, newKey := keyFile(t, newP256(t)), keyFile(t, newP256(t))
	old := newMinter(mustLoad(t, oldKey), clk)
	tok, _ := old.Mint(testSession(clk))

	rotated := newMinter(mustLoad(t, newKey, oldKey), clk)
	if _, err := rotated.Parse(tok); err != nil {
		t.Errorf("a token signed by the second key: %v", err)
	}
	fresh, _ := rotated.Mint(testSession(clk))
	if kid := decodeJSON(t, strings.Split(fresh, ".")[0])["kid"]; kid != rotated.Keys.keys[0].kid {
		t.Errorf("a new token is signed by %v, not the first key", kid)
	}
	dropped := newMinter(mustLoad(t, newKey), clk)
	if _, err := dropped.Parse(tok); !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "key the broker does not have") {
		t.Errorf("a token of a dropped key: %v", err)
	}
}

func TestParseExpiry(t *testing.T) {
	k, _ := newKeys(t, 1)
	clk := newClock()
	m := newMinter(k, clk)
	tok, _ := m.Mint(testSession(clk))
	clk.Add(time.Hour - time.Second)
	if _, err := m.Parse(tok); err != nil {
		t.Errorf("a second before exp: %v", err)
	}
	clk.Add(time.Second)
	if _, err := m.Parse(tok); !errors.Is(err, ErrExpiredToken) {
		t.Errorf("at exp (no leeway): %v", err)
	}
}

// sign makes a token the broker's key signed but the broker never minted.
func sign(priv *ecdsa.PrivateKey, h, c map[string]any) string {
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(c)
	input := b64(hb) + "." + b64(cb)
	sum := sha256.Sum256([]byte(input))
	r, s, _ := ecdsa.Sign(rand.Reader, priv, sum[:])
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64(sig)
}

func TestParseRefuses(t *testing.T) {
	k, _ := newKeys(t, 1)
	clk := newClock()
	m := newMinter(k, clk)
	tok, _ := m.Mint(testSession(clk))
	parts := strings.Split(tok, ".")
	h, c := decodeJSON(t, parts[0]), decodeJSON(t, parts[1])
	with := func(m map[string]any, name string, v any) map[string]any {
		out := map[string]any{}
		for k, x := range m {
			out[k] = x
		}
		if v == nil {
			delete(out, name)
		} else {
			out[name] = v
		}
		return out
	}
	cb, _ := json.Marshal(with(c, "sub", "u_mallory"))
	hNone, _ := json.Marshal(with(h, "alg", "none"))
	hHS, _ := json.Marshal(with(h, "alg", "HS256"))
	mac := hmac.New(sha256.New, k.JWKS())
	mac.Write([]byte(b64(hHS) + "." + parts[1]))
	priv := k.keys[0].priv

	tests := map[string]string{
		"tampered payload":   parts[0] + "." + b64(cb) + "." + parts[2],
		"tampered signature": parts[0] + "." + parts[1] + "." + flip(parts[2]),
		"alg none":           b64(hNone) + "." + parts[1] + ".",
		"alg HS256":          b64(hHS) + "." + parts[1] + "." + b64(mac.Sum(nil)),
		"other issuer":       mintAs(k, clk, "https://other.example"),
		"typ JWT":            sign(priv, with(h, "typ", "JWT"), c),
		"no typ":             sign(priv, with(h, "typ", nil), c),
		"crit":               sign(priv, with(h, "crit", []string{"exp"}), c),
		"no cnf":             sign(priv, h, with(c, "cnf", nil)),
		"no sid":             sign(priv, h, with(c, "sid", nil)),
		"two parts":          parts[0] + "." + parts[1],
		"empty":              "",
		"huge":               strings.Repeat("a", maxToken+1),
		"padded signature":   parts[0] + "." + parts[1] + "." + parts[2] + "==",
	}
	for name, bad := range tests {
		_, err := m.Parse(bad)
		if !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: Parse = %v, want ErrInvalidToken", name, err)
			continue
		}
		if len(bad) > 20 && strings.Contains(err.Error(), bad[len(bad)-20:]) {
			t.Errorf("%s: the error quotes the token: %v", name, err)
		}
	}
	if _, err := m.Parse(sign(priv, h, c)); err != nil {
		t.Errorf("the same claims properly signed: %v", err)
	}
}

// mintAs mints a token with the broker's own key for another issuer.
func mintAs(k *Keys, clk *clock, iss string) string {
	other := &Minter{Issuer: iss, Keys: k, Lifetime: time.Hour, Now: clk.Now}
	tok, _ := other.Mint(testSession(clk))
	return tok
}

func flip(s string) string {
	b := []byte(s)
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	return string(b)
}

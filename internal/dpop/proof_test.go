package dpop

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// proof is a proof as a server sees it after checking it.
type proof struct {
	Header map[string]any
	JWK    map[string]any
	Claims map[string]any
}

// verify checks a proof as RFC 9449 §4.3 asks a server to, with go-jose:
// a compact JWS of typ dpop+jwt whose embedded public key, key's own,
// verifies the signature.
func verify(t *testing.T, k *Key, s string) proof {
	t.Helper()
	jws, err := jose.ParseSigned(s, []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatalf("parse proof: %v", err)
	}
	h := jws.Signatures[0].Protected
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() || h.Algorithm != k.Alg() || h.ExtraHeaders["typ"] != "dpop+jwt" {
		t.Fatalf("header: %+v", h)
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		t.Fatalf("the embedded jwk does not verify the proof: %v", err)
	}
	var p proof
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(s, ".")[0])
	if err != nil || json.Unmarshal(raw, &p.Header) != nil || json.Unmarshal(payload, &p.Claims) != nil {
		t.Fatalf("proof %s does not decode", s)
	}
	if len(p.Header) != 3 {
		t.Errorf("header %s has members other than typ, alg, jwk", raw)
	}
	p.JWK, _ = p.Header["jwk"].(map[string]any)
	if _, ok := p.JWK["d"]; ok || len(p.JWK) != len(k.jwk) {
		t.Errorf("header jwk %v is not the bare public key", p.JWK)
	}
	if thumb := thumbprint(toStrings(p.JWK)); thumb != k.Thumbprint() {
		t.Errorf("the header's key has thumbprint %s, the key %s", thumb, k.Thumbprint())
	}
	return p
}

func toStrings(m map[string]any) map[string]string {
	s := map[string]string{}
	for k, v := range m {
		s[k], _ = v.(string)
	}
	return s
}

func TestProof(t *testing.T) {
	now := time.Unix(1562262616, 0)
	for _, alg := range []string{ES256, EdDSA} {
		k, err := Generate(alg)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			in   ProofClaims
			want map[string]any
		}{
			{ProofClaims{Method: "POST", URL: "https://server.example.com/token", Now: now},
				map[string]any{"htm": "POST", "htu": "https://server.example.com/token", "iat": 1562262616.0}},
			{ProofClaims{Method: "GET", URL: "HTTPS://Resource.example.org:443/protectedresource?x=1#f", Now: now,
				AccessToken: "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU", Nonce: "eyJ7S_zG.eyJH0-Z.HX4w-7v"},
				map[string]any{"htm": "GET", "htu": "https://resource.example.org/protectedresource", "iat": 1562262616.0,
					"ath": "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo", "nonce": "eyJ7S_zG.eyJH0-Z.HX4w-7v"}},
		} {
			s, err := k.Proof(c.in)
			if err != nil {
				t.Fatalf("%s: %v", alg, err)
			}
			got := verify(t, k, s).Claims
			jti, _ := got["jti"].(string)
			if b, err := base64.RawURLEncoding.DecodeString(jti); err != nil || len(b) < 16 {
				t.Errorf("%s: jti %q is not 128 random bits in base64url", alg, jti)
			}
			delete(got, "jti")
			if g, w := mustJSON(got), mustJSON(c.want); g != w {
				t.Errorf("%s: claims %s, want %s", alg, g, w)
			}
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Servers refuse a proof whose jti they saw before (RFC 9449 §11.1).
func TestProofJTIUnique(t *testing.T) {
	k, err := Generate(EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 200 {
		s, err := k.Proof(ProofClaims{Method: "GET", URL: "https://rs.example/", Now: time.Unix(1, 0)})
		if err != nil {
			t.Fatal(err)
		}
		jti := verify(t, k, s).Claims["jti"].(string)
		if seen[jti] {
			t.Fatalf("jti %s twice", jti)
		}
		seen[jti] = true
	}
}

func TestProofRefuses(t *testing.T) {
	k, err := Generate(ES256)
	if err != nil {
		t.Fatal(err)
	}
	ok := ProofClaims{Method: "GET", URL: "https://rs.example/", Now: time.Unix(1, 0)}
	for _, k := range []*Key{nil, {}} {
		if _, err := k.Proof(ok); err == nil {
			t.Errorf("a proof without a key (%#v)", k)
		}
	}
	for name, edit := range map[string]func(*ProofClaims){
		"no method":   func(p *ProofClaims) { p.Method = "" },
		"no time":     func(p *ProofClaims) { p.Now = time.Time{} },
		"bad nonce":   func(p *ProofClaims) { p.Nonce = `a"b` },
		"no URL":      func(p *ProofClaims) { p.URL = "" },
		"relative":    func(p *ProofClaims) { p.URL = "/token" },
		"ftp":         func(p *ProofClaims) { p.URL = "ftp://rs.example/" },
		"nothing bad": func(p *ProofClaims) {},
	} {
		p := ok
		edit(&p)
		_, err := k.Proof(p)
		if (err == nil) != (name == "nothing bad") {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

// RFC 9449 §4.2 and §7.1 use this access token and its ath.
func TestATH(t *testing.T) {
	if got := ATH("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"); got != "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo" {
		t.Errorf("ATH = %s", got)
	}
}

func TestHTU(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://server.example.com/token", "https://server.example.com/token"},
		{"https://server.example.com/token?code=abc&state=x#frag", "https://server.example.com/token"},
		{"https://server.example.com/token?", "https://server.example.com/token"},
		{"HTTPS://Server.EXAMPLE.com/Token", "https://server.example.com/Token"},
		{"https://server.example.com:443/token", "https://server.example.com/token"},
		{"http://server.example.com:80/token", "http://server.example.com/token"},
		{"http://server.example.com:443/token", "http://server.example.com:443/token"},
		{"https://server.example.com:8443/token", "https://server.example.com:8443/token"},
		{"https://server.example.com:/token", "https://server.example.com/token"},
		{"https://server.example.com", "https://server.example.com/"},
		{"https://user:pass@server.example.com/token", "https://server.example.com/token"},
		{"http://[::1]:8080/a%20b/", "http://[::1]:8080/a%20b/"},
		{"https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"},
		{"http://127.0.0.1:80", "http://127.0.0.1/"},
	} {
		got, err := HTU(c.in)
		if err != nil || got != c.want {
			t.Errorf("HTU(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		if again, _ := HTU(got); again != got {
			t.Errorf("HTU(%q) = %q: not stable", got, again)
		}
	}
	for _, in := range []string{"", "/token", "server.example.com/token", "//server.example.com/token",
		"ftp://server.example.com/", "file:///etc/passwd", "https:///token", "https:server.example.com",
		"mailto:a@b", "http://%zz/", "https://:443/"} {
		if got, err := HTU(in); err == nil {
			t.Errorf("HTU(%q) = %q, want an error", in, got)
		}
	}
	if _, err := HTU("https://rs.example/x?access_token=secret\x7f"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("an unparsable URL: %v", err)
	}
}

func TestValidNonce(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"eyJ7S_zG.eyJH0-Z.HX4w-7v", true},
		{"!#[]~", true},
		{strings.Repeat("n", 1024), true},
		{"", false},
		{strings.Repeat("n", 1025), false},
		{"a b", false},
		{`a"b`, false},
		{`a\b`, false},
		{"a\r\nSet-Cookie: x", false},
		{"a\x00", false},
		{"a\x7f", false},
		{"é", false},
	} {
		if got := ValidNonce(c.in); got != c.want {
			t.Errorf("ValidNonce(%.20q) = %v", c.in, got)
		}
	}
}

package dpop

import (
	"crypto"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// The thumbprint follows RFC 7638: its own example (an RSA key, §3.1),
// and the key of RFC 9449's example proofs, whose cnf.jkt §6.1 gives.
func TestThumbprintRFCExamples(t *testing.T) {
	for _, c := range []struct {
		name string
		jwk  map[string]string
		want string
	}{
		{"RFC 7638 §3.1", map[string]string{"kty": "RSA", "e": "AQAB",
			"n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
			"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"},
		{"RFC 9449 §6.1", map[string]string{"kty": "EC", "crv": "P-256",
			"x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs", "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"},
			"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},
		{"RFC 8037 A.3", map[string]string{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
			"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"},
	} {
		if got := thumbprint(c.jwk); got != c.want {
			t.Errorf("%s: thumbprint %s, want %s", c.name, got, c.want)
		}
	}
}

// rfc8037 is the Ed25519 key of RFC 8037 Appendix A.1.
const rfc8037 = `{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`

func TestParseKnownKey(t *testing.T) {
	k, err := Parse([]byte(rfc8037))
	if err != nil {
		t.Fatal(err)
	}
	if k.Alg() != EdDSA || k.Thumbprint() != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Errorf("alg %s, thumbprint %s", k.Alg(), k.Thumbprint())
	}
}

// A key survives the keychain: the JSON is a private JWK that go-jose
// reads too, and Parse gives back the same key.
func TestMarshalParse(t *testing.T) {
	for _, alg := range []string{ES256, EdDSA} {
		k, err := Generate(alg)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		var jk jose.JSONWebKey
		if err := jk.UnmarshalJSON(b); err != nil || jk.IsPublic() || jk.Algorithm != alg {
			t.Errorf("%s: go-jose reads %s as alg %q public %v: %v", alg, b, jk.Algorithm, jk.IsPublic(), err)
		}
		pub := jk.Public()
		if tp, err := pub.Thumbprint(crypto.SHA256); err != nil || b64(tp) != k.Thumbprint() {
			t.Errorf("%s: go-jose's thumbprint %s, ours %s (%v)", alg, b64(tp), k.Thumbprint(), err)
		}
		back, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		again, _ := json.Marshal(back)
		if back.Alg() != alg || back.Thumbprint() != k.Thumbprint() || string(again) != string(b) {
			t.Errorf("%s: round trip gave %s, want %s", alg, again, b)
		}
	}
}

func TestGenerate(t *testing.T) {
	a, err := Generate(ES256)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(ES256)
	if err != nil {
		t.Fatal(err)
	}
	if a.Thumbprint() == b.Thumbprint() {
		t.Error("two generated keys are the same")
	}
	for _, alg := range []string{"", "RS256", "ES384", "es256", "Ed25519", "HS256"} {
		if k, err := Generate(alg); err == nil {
			t.Errorf("Generate(%q) = %v, want an error", alg, k)
		}
	}
}

func TestChooseAlg(t *testing.T) {
	for _, c := range []struct {
		supported []string
		want      string
	}{
		{nil, ES256},
		{[]string{}, ES256},
		{[]string{"ES256"}, ES256},
		{[]string{"RS256", "ES256", "EdDSA"}, ES256},
		{[]string{"EdDSA"}, EdDSA},
		{[]string{"PS256", "EdDSA", "ES256"}, EdDSA},
		{[]string{"RS256", "PS256"}, ""},
		{[]string{"es256", "eddsa"}, ""},
	} {
		if got := ChooseAlg(c.supported); got != c.want {
			t.Errorf("ChooseAlg(%q) = %q, want %q", c.supported, got, c.want)
		}
	}
}

// Parse refuses everything but a whole P-256 or Ed25519 private key, and
// its errors never quote the private part.
func TestParseRefuses(t *testing.T) {
	ec, err := Generate(ES256)
	if err != nil {
		t.Fatal(err)
	}
	var good jwk
	b, _ := json.Marshal(ec)
	json.Unmarshal(b, &good)
	edit := func(f func(*jwk)) string {
		j := good
		f(&j)
		b, _ := json.Marshal(j)
		return string(b)
	}
	secret := good.D
	for _, c := range []struct{ name, in, want string }{
		{"public only", edit(func(j *jwk) { j.D = "" }), "public key only"},
		{"RSA", `{"kty":"RSA","n":"0vx7","e":"AQAB","d":"` + secret + `"}`, "kty RSA"},
		{"symmetric", `{"kty":"oct","k":"` + secret + `"}`, "kty oct"},
		{"P-384", edit(func(j *jwk) { j.Crv = "P-384" }), "crv P-384"},
		{"X25519", `{"kty":"OKP","crv":"X25519","x":"` + good.X + `","d":"` + secret + `"}`, "crv X25519"},
		{"alg mismatch", edit(func(j *jwk) { j.Alg = EdDSA }), "names alg EdDSA"},
		{"unknown names", edit(func(j *jwk) { j.Kty = secret }), "kty (unknown)"},
		{"alg carrying the secret", edit(func(j *jwk) { j.Alg = secret }), "(unknown)"},
		{"garbage", "{" + secret, "damaged JSON"},
		{"not an object", `"` + secret + `"`, "damaged JSON"},
		{"d not base64url", edit(func(j *jwk) { j.D = secret[:20] + "!!" + secret[22:] }), "damaged P-256 key"},
		{"d short", edit(func(j *jwk) { j.D = secret[:40] }), "damaged P-256 key"},
		{"other public part", edit(func(j *jwk) {
			j.X, j.Y = "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs", "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"
		}), "does not match"},
		{"no y", edit(func(j *jwk) { j.Y = "" }), "damaged P-256 key"},
		{"zero d", edit(func(j *jwk) { j.D = b64(make([]byte, 32)) }), "damaged P-256 key"},
		{"Ed25519 other x", strings.Replace(rfc8037, "11qYAYKx", "21qYAYKx", 1), "does not match"},
		{"Ed25519 with y", strings.Replace(rfc8037, `"x"`, `"y":"`+good.Y+`","x"`, 1), "damaged Ed25519 key"},
		{"Ed25519 public only", `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`, "public key only"},
	} {
		k, err := Parse([]byte(c.in))
		if err == nil {
			t.Errorf("%s: Parse gave a key (%v), want an error", c.name, k)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want it to say %q", c.name, err, c.want)
		}
		if strings.Contains(err.Error(), secret[:8]) || strings.Contains(err.Error(), "nWGxne") {
			t.Errorf("%s: error %q quotes the private key", c.name, err)
		}
	}
}

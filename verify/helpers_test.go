package verify_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sesame-cli/sesame/verify"
)

// t0 is when the tests happen, on a clock they move by hand.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// broker stands in for sesame-broker in session mode: a discovery
// document, a key set and an introspection endpoint, with knobs.
type broker struct {
	*httptest.Server
	mu         sync.Mutex
	signing    *ecdsa.PrivateKey   // signs the tokens
	published  []*ecdsa.PrivateKey // whose public halves the key set has
	meta       func(m map[string]any)
	jwks       http.HandlerFunc // replaces the key set when set
	introspect http.HandlerFunc // replaces {"active": true} when set
	jwksHits   atomic.Int64
	introHits  atomic.Int64
}

func newBroker(t testing.TB) *broker {
	b := &broker{signing: newECKey(t)}
	b.published = []*ecdsa.PrivateKey{b.signing}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		m := map[string]any{"issuer": b.URL, "jwks_uri": b.URL + "/jwks", "introspection_endpoint": b.URL + "/introspect"}
		b.mu.Lock()
		if b.meta != nil {
			b.meta(m)
		}
		b.mu.Unlock()
		json.NewEncoder(w).Encode(m)
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		b.jwksHits.Add(1)
		b.mu.Lock()
		override := b.jwks
		var set jose.JSONWebKeySet
		for _, k := range b.published {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: thumbprint(&k.PublicKey), Use: "sig", Algorithm: "ES256"})
		}
		b.mu.Unlock()
		if override != nil {
			override(w, r)
			return
		}
		json.NewEncoder(w).Encode(set)
	})
	mux.HandleFunc("POST /introspect", func(w http.ResponseWriter, r *http.Request) {
		b.introHits.Add(1)
		b.mu.Lock()
		override := b.introspect
		b.mu.Unlock()
		if override != nil {
			override(w, r)
			return
		}
		if r.PostFormValue("token") == "" {
			http.Error(w, "no token", http.StatusBadRequest)
			return
		}
		w.Write([]byte(`{"active":true}`))
	})
	b.Server = httptest.NewServer(mux)
	t.Cleanup(b.Close)
	return b
}

// set changes the broker's knobs under its lock.
func (b *broker) set(f func(b *broker)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(b)
}

// claims are a good token's claims, bound to jkt unless it is "".
func (b *broker) claims(now time.Time, jkt string) map[string]any {
	c := map[string]any{
		"iss": b.URL, "sub": "alice", "idp": "github", "sid": "s-1", "jti": "t-1",
		"auth_time": now.Add(-time.Minute).Unix(), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"email": "alice@example.com", "name": "Alice",
	}
	if jkt != "" {
		c["cnf"] = map[string]any{"jkt": jkt}
	}
	return c
}

// token signs claims as the broker does: ES256 with its signing key,
// named by its thumbprint, typ at+jwt.
func (b *broker) token(t testing.TB, claims map[string]any) string {
	b.mu.Lock()
	k := b.signing
	b.mu.Unlock()
	return signJWS(t, jose.ES256, jose.JSONWebKey{Key: k, KeyID: kid(t, &k.PublicKey)}, (&jose.SignerOptions{}).WithType("at+jwt"), claims)
}

// signJWS signs payload with go-jose, the reference the package is tested
// against.
func signJWS(t testing.TB, alg jose.SignatureAlgorithm, key any, opts *jose.SignerOptions, payload map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := json.Marshal(payload)
	obj, err := s.Sign(p)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rawJWS builds a JWS go-jose would not: header and payload as given,
// signature made by sign (or none).
func rawJWS(header, payload map[string]any, sign func(input []byte) []byte) string {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(payload)
	input := b64(h) + "." + b64(p)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// kid is a key's RFC 7638 thumbprint by go-jose, as the broker names its keys.
func kid(t testing.TB, pub crypto.PublicKey) string {
	t.Helper()
	tp := thumbprint(pub)
	if tp == "" {
		t.Fatalf("no thumbprint for a %T", pub)
	}
	return tp
}

func thumbprint(pub crypto.PublicKey) string {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return ""
	}
	return b64(tp)
}

// cli is the sesame CLI's side: a DPoP key and the proofs it makes.
type cli struct {
	key crypto.Signer
	alg jose.SignatureAlgorithm
	jkt string
}

func newCLI(t testing.TB) *cli {
	k := newECKey(t)
	return &cli{key: k, alg: jose.ES256, jkt: kid(t, &k.PublicKey)}
}

func newEdCLI(t testing.TB) *cli {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	return &cli{key: priv, alg: jose.EdDSA, jkt: kid(t, pub)}
}

// proofClaims are a good proof's claims for a request.
func proofClaims(method, url, token string, iat time.Time) map[string]any {
	c := map[string]any{"jti": randomID(), "htm": method, "htu": url, "iat": iat.Unix()}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		c["ath"] = b64(sum[:])
	}
	return c
}

// proof signs claims as the CLI does: its public key in the header,
// typ dpop+jwt.
func (c *cli) proof(t testing.TB, claims map[string]any) string {
	return signJWS(t, c.alg, c.key, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"), claims)
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return b64(b)
}

// setup is a broker, a verifier of its tokens on a hand-moved clock, and
// a CLI with a DPoP key.
func setup(t testing.TB) (*broker, *verify.Verifier, *clock, *cli) {
	b := newBroker(t)
	clk := newClock()
	v := &verify.Verifier{Issuer: b.URL, Now: clk.Now}
	return b, v, clk, newCLI(t)
}

// request is an API request presenting token with scheme, and proof
// when it is not "".
func request(method, url, scheme, token, proof string) *http.Request {
	r := httptest.NewRequest(method, url, nil)
	if scheme != "" {
		r.Header.Set("Authorization", scheme+" "+token)
	}
	if proof != "" {
		r.Header.Set("DPoP", proof)
	}
	return r
}

// noSecrets fails when s holds the token or proof.
func noSecrets(t testing.TB, s string, secrets ...string) {
	t.Helper()
	for _, x := range secrets {
		if x != "" && strings.Contains(s, x) {
			t.Errorf("%q repeats a secret", s)
		}
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// tamper changes the first character of a JWS's signature.
func tamper(jws string) string {
	i := strings.LastIndex(jws, ".") + 1
	c := byte('A')
	if jws[i] == 'A' {
		c = 'B'
	}
	return jws[:i] + string(c) + jws[i+1:]
}

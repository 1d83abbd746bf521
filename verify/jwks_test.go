package verify_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sesame-cli/sesame/verify"
)

// A token naming a kid the Verifier has not seen makes it fetch the key
// set again, once per 30 s at most, however many such tokens come.
func TestUnknownKid(t *testing.T) {
	b, v, clk, _ := setup(t)
	ctx := context.Background()
	if _, err := v.Verify(ctx, b.token(t, b.claims(clk.Now(), ""))); err != nil {
		t.Fatal(err)
	}
	stranger := newECKey(t)
	forged := signJWS(t, jose.ES256, jose.JSONWebKey{Key: stranger, KeyID: kid(t, &stranger.PublicKey)},
		(&jose.SignerOptions{}).WithType("at+jwt"), b.claims(clk.Now(), ""))

	clk.Add(31 * time.Second)
	for i, wantHits := range []int64{2, 2, 2} {
		_, err := v.Verify(ctx, forged)
		if !errors.Is(err, verify.ErrInvalidToken) || !strings.Contains(err.Error(), "does not publish") {
			t.Fatalf("try %d: got %v", i, err)
		}
		if got := b.jwksHits.Load(); got != wantHits {
			t.Errorf("try %d: %d fetches of the key set, want %d", i, got, wantHits)
		}
		clk.Add(10 * time.Second)
	}
	if _, err := v.Verify(ctx, forged); !errors.Is(err, verify.ErrInvalidToken) || b.jwksHits.Load() != 3 {
		t.Errorf("after 30 s: %v, %d fetches", err, b.jwksHits.Load())
	}
}

// The first token ever seen fetches the key set; one with an unknown kid
// right after does not fetch it again.
func TestUnknownKidColdStart(t *testing.T) {
	b, v, clk, _ := setup(t)
	stranger := newECKey(t)
	forged := signJWS(t, jose.ES256, jose.JSONWebKey{Key: stranger, KeyID: "k1"}, (&jose.SignerOptions{}).WithType("at+jwt"), b.claims(clk.Now(), ""))
	for range 3 {
		if _, err := v.Verify(context.Background(), forged); !errors.Is(err, verify.ErrInvalidToken) {
			t.Fatalf("got %v", err)
		}
	}
	if b.jwksHits.Load() != 1 {
		t.Errorf("%d fetches, want 1", b.jwksHits.Load())
	}
}

// The broker rotates: it publishes a new key and signs with it; the
// Verifier fetches the set again and accepts both. When the old key is
// withdrawn, the Verifier stops accepting it once its copy of the set
// has aged.
func TestKeyRotation(t *testing.T) {
	b, v, clk, _ := setup(t)
	ctx := context.Background()
	long := func() map[string]any {
		m := b.claims(clk.Now(), "")
		m["exp"] = clk.Now().Add(time.Hour).Unix()
		return m
	}
	oldTok := b.token(t, long())
	if _, err := v.Verify(ctx, oldTok); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	next := newECKey(t)
	b.set(func(b *broker) { b.published = append(b.published, next); b.signing = next })
	newTok := b.token(t, long())
	for _, tok := range []string{newTok, oldTok} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("after the rotation: %v", err)
		}
	}
	if b.jwksHits.Load() != 2 {
		t.Errorf("%d fetches, want 2", b.jwksHits.Load())
	}

	b.set(func(b *broker) { b.published = []*ecdsa.PrivateKey{next} })
	clk.Add(5 * time.Minute)
	if _, err := v.Verify(ctx, oldTok); err != nil {
		t.Errorf("before the set ages, the old key still serves: %v", err)
	}
	clk.Add(6 * time.Minute)
	if _, err := v.Verify(ctx, oldTok); !errors.Is(err, verify.ErrInvalidToken) {
		t.Errorf("withdrawn key: got %v", err)
	}
	if _, err := v.Verify(ctx, newTok); err != nil {
		t.Errorf("new key: %v", err)
	}
}

// When the broker cannot be reached, the keys it published last still
// serve; when it never could, tokens are refused as unavailable, not
// invalid, and attempts are spaced.
func TestBrokerDown(t *testing.T) {
	b, v, clk, _ := setup(t)
	ctx := context.Background()
	tok := b.token(t, b.claims(clk.Now(), ""))
	fail := func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) }
	b.set(func(b *broker) { b.jwks = fail })
	for range 2 {
		_, err := v.Verify(ctx, tok)
		if !errors.Is(err, verify.ErrUnavailable) || !strings.Contains(err.Error(), "502") {
			t.Fatalf("got %v", err)
		}
	}
	if b.jwksHits.Load() != 1 {
		t.Errorf("%d fetches within 5 s, want 1", b.jwksHits.Load())
	}
	clk.Add(5 * time.Second)
	b.set(func(b *broker) { b.jwks = nil })
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}

	b.set(func(b *broker) { b.jwks = fail })
	m := b.claims(clk.Now(), "")
	m["exp"] = clk.Now().Add(time.Hour).Unix()
	tok = b.token(t, m)
	clk.Add(11 * time.Minute)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Errorf("a stale set serves while the broker is down: %v", err)
	}
}

// What the Verifier takes from the broker is bounded and must come from
// where the issuer is.
func TestDiscoveryRules(t *testing.T) {
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[]}`))
	}))
	defer elsewhere.Close()
	k := newECKey(t)
	for name, tc := range map[string]struct {
		meta func(b *broker, m map[string]any)
		jwks http.HandlerFunc
		msg  string
	}{
		"other issuer": {meta: func(b *broker, m map[string]any) { m["issuer"] = "https://evil.example.com" }, msg: "is for issuer"},
		"no jwks_uri":  {meta: func(b *broker, m map[string]any) { delete(m, "jwks_uri") }, msg: "no jwks_uri"},
		"jwks_uri https from an http issuer": {meta: func(b *broker, m map[string]any) {
			m["jwks_uri"] = strings.Replace(b.URL, "http:", "https:", 1) + "/jwks"
		}, msg: "issuer's scheme"},
		"jwks_uri plain http elsewhere": {meta: func(b *broker, m map[string]any) { m["jwks_uri"] = "http://keys.example.com/jwks" }, msg: "not an https URL"},
		"introspection on plain http elsewhere": {meta: func(b *broker, m map[string]any) {
			m["introspection_endpoint"] = "http://broker.example.com/introspect"
		}, msg: "introspection_endpoint"},
		"key set over 1 MiB": {jwks: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"keys":[],"pad":"` + strings.Repeat("x", 1<<20) + `"}`))
		}, msg: "larger than 1 MiB"},
		"redirect to another origin": {jwks: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/jwks", http.StatusFound)
		}, msg: "another origin"},
		"private key in the set": {jwks: func(w http.ResponseWriter, r *http.Request) {
			set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k, KeyID: "k"}}}
			b, _ := set.Keys[0].MarshalJSON()
			w.Write([]byte(`{"keys":[` + string(b) + `]}`))
		}, msg: "private key material"},
		"no ES256 key": {jwks: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"e","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
		}, msg: "no ES256 key"},
		"not JSON": {jwks: func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) }, msg: "not the JSON expected"},
	} {
		t.Run(name, func(t *testing.T) {
			b, v, clk, _ := setup(t)
			if tc.meta != nil {
				b.set(func(b *broker) { b.meta = func(m map[string]any) { tc.meta(b, m) } })
			}
			b.set(func(b *broker) { b.jwks = tc.jwks })
			_, err := v.Verify(context.Background(), b.token(t, b.claims(clk.Now(), "")))
			if !errors.Is(err, verify.ErrUnavailable) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v, want it unavailable and to say %q", err, tc.msg)
			}
		})
	}
}

// Redirects within the broker's origin are followed.
func TestSameOriginRedirect(t *testing.T) {
	b, v, clk, _ := setup(t)
	b.set(func(b *broker) { b.meta = func(m map[string]any) { m["jwks_uri"] = b.URL + "/old-jwks" } })
	b.Config.Handler.(*http.ServeMux).HandleFunc("/old-jwks", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/jwks", http.StatusMovedPermanently)
	})
	if _, err := v.Verify(context.Background(), b.token(t, b.claims(clk.Now(), ""))); err != nil {
		t.Fatal(err)
	}
}

// Keys the broker does not sign with are ignored, and a kid naming two
// keys names none.
func TestKeySetFilter(t *testing.T) {
	b, v, clk, _ := setup(t)
	k := b.signing
	twin := newECKey(t)
	good := jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid(t, &k.PublicKey)}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &k.PublicKey, KeyID: "enc", Use: "enc"},
		{Key: &k.PublicKey, KeyID: "es384", Algorithm: "ES384"},
		{Key: &k.PublicKey, KeyID: "twin"}, {Key: &twin.PublicKey, KeyID: "twin"},
		good,
	}}
	b.set(func(b *broker) {
		b.jwks = func(w http.ResponseWriter, r *http.Request) { writeJSON(w, set) }
	})
	ctx := context.Background()
	if _, err := v.Verify(ctx, b.token(t, b.claims(clk.Now(), ""))); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"enc", "es384", "twin"} {
		tok := signJWS(t, jose.ES256, jose.JSONWebKey{Key: k, KeyID: id}, (&jose.SignerOptions{}).WithType("at+jwt"), b.claims(clk.Now(), ""))
		if _, err := v.Verify(ctx, tok); !errors.Is(err, verify.ErrInvalidToken) {
			t.Errorf("kid %s: got %v", id, err)
		}
	}
}

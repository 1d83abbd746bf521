package doctor

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// fake is a crafted provider: a discovery document that passes every check
// unless a test changes it, and a JWK Set with one EC key.
type fake struct {
	// docPath is where the document is served; default the OIDC location.
	docPath string
	// edit changes the document before it is served.
	edit func(base string, doc map[string]any)
	// discovery, when set, answers the document request instead.
	discovery http.HandlerFunc
	// jwks, when set, is the JWKS body; jwksStatus its status (default 200).
	jwks       string
	jwksStatus int
	// skew shifts the Date header of every response; noDate drops it.
	skew   time.Duration
	noDate bool
	// age is the Age header in seconds, as a cache in front would add it.
	age string
}

func (f fake) start(t *testing.T) string {
	t.Helper()
	var base string
	date := func(w http.ResponseWriter) {
		if f.age != "" {
			w.Header().Set("Age", f.age)
		}
		switch {
		case f.noDate:
			w.Header()["Date"] = nil // net/http adds one unless told not to
		case f.skew != 0:
			w.Header().Set("Date", time.Now().Add(f.skew).UTC().Format(http.TimeFormat))
		}
	}
	docPath := f.docPath
	if docPath == "" {
		docPath = "/.well-known/openid-configuration"
	}
	mux := http.NewServeMux()
	mux.HandleFunc(docPath, func(w http.ResponseWriter, r *http.Request) {
		date(w)
		if f.discovery != nil {
			f.discovery(w, r)
			return
		}
		doc := goodDoc(base)
		if f.edit != nil {
			f.edit(base, doc)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		date(w)
		body := f.jwks
		if body == "" {
			body = ecJWKS(t, "key-1")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(orDefault(f.jwksStatus, http.StatusOK))
		_, _ = w.Write([]byte(body))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base = srv.URL
	return base
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// goodDoc advertises everything sesame can use.
func goodDoc(issuer string) map[string]any {
	return map[string]any{
		"issuer":                                         issuer,
		"authorization_endpoint":                         issuer + "/auth",
		"token_endpoint":                                 issuer + "/token",
		"jwks_uri":                                       issuer + "/jwks",
		"userinfo_endpoint":                              issuer + "/userinfo",
		"revocation_endpoint":                            issuer + "/revoke",
		"introspection_endpoint":                         issuer + "/introspect",
		"end_session_endpoint":                           issuer + "/logout",
		"device_authorization_endpoint":                  issuer + "/device",
		"scopes_supported":                               []string{"openid", "profile", "offline_access"},
		"response_types_supported":                       []string{"code"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token", deviceGrant},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"none", "client_secret_basic"},
		"id_token_signing_alg_values_supported":          []string{"ES256"},
		"authorization_response_iss_parameter_supported": true,
	}
}

// ecJWKS is a JWK Set with one public P-256 key per kid.
func ecJWKS(t *testing.T, kids ...string) string {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, kid := range kids {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// closedURL is an http URL on a loopback port where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func run(t *testing.T, o Options) *Report {
	t.Helper()
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	return Run(context.Background(), o)
}

// item returns the named check, failing the test when it is absent.
func item(t *testing.T, r *Report, check string) Item {
	t.Helper()
	for _, it := range r.Items {
		if it.Check == check {
			return it
		}
	}
	t.Fatalf("no %q check in %s", check, dump(r))
	return Item{}
}

func dump(r *Report) string {
	var b strings.Builder
	Render(&b, r, false)
	return b.String()
}

// with is an edit that sets each key to its value; nil deletes the key.
func with(kv map[string]any) func(string, map[string]any) {
	return func(_ string, doc map[string]any) {
		for k, v := range kv {
			if v == nil {
				delete(doc, k)
			} else {
				doc[k] = v
			}
		}
	}
}

package inspect

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// jwks is a fetched JWK Set (RFC 7517 §5) reduced to the keys sesame can
// verify with. skipped maps the kid of each key left out to why, so that a
// token naming one gets a better answer than "no such kid".
type jwks struct {
	url     string
	keys    []jose.JSONWebKey
	skipped map[string]string
}

// fetchJWKS GETs the set at u. revalidate asks caches on the way for a
// fresh copy (RFC 9111 §5.2.1.4), for when a kid was not found. A redirect
// is followed within the origin only, since another origin would choose
// the keys, and the body is bounded (httpx.GetDocument).
func fetchJWKS(ctx context.Context, hc *http.Client, u string, revalidate bool) (*jwks, error) {
	// Keys fetched over plain http from another machine prove nothing.
	if err := httpx.CheckEndpoint(u); err != nil {
		return nil, fmt.Errorf("the JWKS URL %w", err)
	}
	header := http.Header{"Accept": {"application/jwk-set+json, application/json"}}
	if revalidate {
		header.Set("Cache-Control", "no-cache")
	}
	resp, err := httpx.GetDocument(ctx, hc, u, header)
	switch {
	case resp == nil:
		return nil, err // a *httpx.RedirectError or a *url.Error, both naming the URL
	case resp.Status != http.StatusOK:
		return nil, fmt.Errorf("%s answered HTTP %d", u, resp.Status)
	case err != nil:
		return nil, err // "read u: ..."
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(resp.Body, &doc); err != nil || doc.Keys == nil {
		return nil, fmt.Errorf("%s is not a JWK Set (RFC 7517 §5)", u)
	}
	set := &jwks{url: u, skipped: map[string]string{}}
	for _, raw := range doc.Keys {
		var k jose.JSONWebKey
		// RFC 7517 §5: keys that are not understood are ignored, not fatal.
		if err := k.UnmarshalJSON(raw); err != nil {
			set.skip(raw, strings.TrimPrefix(err.Error(), "go-jose/go-jose: "))
			continue
		}
		if _, symmetric := k.Key.([]byte); symmetric {
			set.skip(raw, "it is a symmetric (oct) key, which never verifies a provider's token")
			continue
		}
		set.keys = append(set.keys, k)
	}
	return set, nil
}

func (s *jwks) skip(raw json.RawMessage, why string) {
	var k struct {
		Kid string `json:"kid"`
	}
	if json.Unmarshal(raw, &k) == nil && k.Kid != "" {
		s.skipped[k.Kid] = why
	}
}

// has reports whether any key, usable or not, carries kid.
func (s *jwks) has(kid string) bool {
	for _, k := range s.keys {
		if k.KeyID == kid {
			return true
		}
	}
	_, ok := s.skipped[kid]
	return ok
}

// kids lists the set's key ids for messages.
func (s *jwks) kids() string {
	var ids []string
	for i, k := range s.keys {
		ids = append(ids, keyName(k, i))
	}
	if len(ids) == 0 {
		return "no usable key"
	}
	return strings.Join(ids, ", ")
}

// keyType names a parsed key as a JWK would: kty, and crv for curves.
func keyType(key any) (kty, crv string) {
	switch k := key.(type) {
	case *rsa.PublicKey, *rsa.PrivateKey:
		return "RSA", ""
	case *ecdsa.PublicKey:
		return "EC", k.Curve.Params().Name
	case *ecdsa.PrivateKey:
		return "EC", k.Curve.Params().Name
	case ed25519.PublicKey, ed25519.PrivateKey:
		return "OKP", "Ed25519"
	}
	return fmt.Sprintf("%T", key), ""
}

package testidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// newKey makes a fresh signing key for alg, with its RFC 7638 thumbprint as
// kid so that verifiers have to pick the key by kid like they do in
// production.
func newKey(alg string) (jose.JSONWebKey, error) {
	var key crypto.Signer
	var err error
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case alg == "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case alg == "ES384":
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case alg == "ES512":
		key, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case alg == "EdDSA":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return jose.JSONWebKey{}, fmt.Errorf("unsupported Alg %q", alg)
	}
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	jwk := jose.JSONWebKey{Key: key, Algorithm: alg, Use: "sig"}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("thumbprint %s key: %w", alg, err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return jwk, nil
}

// Key returns the provider's private signing key, with its kid and alg, for
// tests that forge tokens: Key().Public() is what the JWKS publishes. It
// is a copy, so changing it does not change what the provider signs with.
func (p *IdP) Key() *jose.JSONWebKey {
	k := p.key
	return &k
}

// Claims returns the claims of a fresh ID token for the test user, as the
// token endpoint would issue it without a nonce. Tests change a claim and
// pass the result to SignIDToken to build a token that must be refused.
func (p *IdP) Claims() map[string]any {
	now := p.now()
	return map[string]any{
		"iss":            p.Issuer,
		"sub":            Subject,
		"aud":            p.opts.ClientID,
		"exp":            now.Add(p.opts.AccessTokenTTL).Unix(),
		"iat":            now.Unix(),
		"auth_time":      now.Unix(),
		"name":           Name,
		"email":          Email,
		"email_verified": true,
	}
}

// SignIDToken signs claims as-is with the provider's key and kid.
func (p *IdP) SignIDToken(claims map[string]any) string {
	return p.sign(claims, "JWT")
}

// sign makes a compact JWS of claims with the provider's key and kid and
// typ in the header.
func (p *IdP) sign(claims map[string]any, typ jose.ContentType) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		panic("testidp: marshal claims: " + err.Error())
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(p.opts.Alg), Key: p.key},
		(&jose.SignerOptions{}).WithType(typ),
	)
	if err != nil {
		panic("testidp: signer: " + err.Error())
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		panic("testidp: sign: " + err.Error())
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		panic("testidp: serialize: " + err.Error())
	}
	return s
}

// ForgeJWT assembles a compact JWS from any header and claims, signed by
// sign over the RFC 7515 signing input. It builds what no honest signer
// would: {"alg":"none"} with a nil signature, or HS256 keyed with the
// provider's public key (the classic algorithm-confusion attack).
func ForgeJWT(header, claims map[string]any, sign func(signingInput []byte) []byte) string {
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			panic("testidp: marshal: " + err.Error())
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// idToken issues the ID token for a grant, with the organizations claim
// when scope has OrganizationsScope. On refresh it keeps the original
// nonce and auth_time (OpenID Connect Core §12.2), as oidc-provider does.
func (p *IdP) idToken(g *grant, scope string) string {
	c := p.Claims()
	c["auth_time"] = g.authTime.Unix()
	if g.nonce != "" {
		c["nonce"] = g.nonce
	}
	if slices.Contains(strings.Fields(scope), OrganizationsScope) {
		c["organizations"] = p.organizations()
	}
	return p.SignIDToken(c)
}

// accessJWT issues a JWT access token (RFC 9068) for aud, shaped as
// oidc-provider's: an empty scope is left out, and org, when set, is the
// organization_id claim Logto adds.
func (p *IdP) accessJWT(g *grant, aud, scope, org string) string {
	now := p.now()
	c := map[string]any{
		"iss":       p.Issuer,
		"sub":       Subject,
		"aud":       aud,
		"client_id": g.clientID,
		"iat":       now.Unix(),
		"exp":       now.Add(p.opts.AccessTokenTTL).Unix(),
		"jti":       random(),
	}
	if scope != "" {
		c["scope"] = scope
	}
	if org != "" {
		c["organization_id"] = org
	}
	return p.sign(c, "at+jwt")
}

// isJWT reports whether tok is a compact JWS, which the introspection and
// revocation endpoints refuse as oidc-provider's do.
func isJWT(tok string) bool {
	header, _, ok := strings.Cut(tok, ".")
	if !ok || strings.Count(tok, ".") != 2 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(header)
	var h struct {
		Alg string `json:"alg"`
	}
	return err == nil && json.Unmarshal(b, &h) == nil && h.Alg != ""
}

// SignJWT signs claims with the provider's key and kid, with typ in the
// protected header: "at+jwt" makes an access token that must never pass
// as an ID token (RFC 8725 §3.11).
func (p *IdP) SignJWT(typ string, claims map[string]any) string {
	return p.sign(claims, jose.ContentType(typ))
}

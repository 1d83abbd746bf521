package provider

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// asymmetricAlgs are the only ID token algorithms accepted. "none" and the
// HMAC family are left out on purpose: a public client has no shared secret,
// so an HS256 token "signed" with the provider's public key is a forgery.
var asymmetricAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512,
	oidc.PS256, oidc.PS384, oidc.PS512,
	oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.EdDSA,
}

// maxIDToken bounds what is parsed; real ID tokens are a few KiB.
const maxIDToken = 64 << 10

// ClockSkew is the tolerance for exp checks, since laptops' clocks drift.
const ClockSkew = 60 * time.Second

// Identity is what sesame keeps from a verified ID token.
type Identity struct {
	Subject string `json:"sub"`
	Name    string `json:"name,omitempty"`
	Email   string `json:"email,omitempty"`
	// Username is preferred_username, for providers that give no name.
	Username string `json:"preferred_username,omitempty"`
	Nonce    string `json:"-"`
	Expiry   time.Time
}

// VerifyIDToken checks an ID token's signature against the provider's JWKS
// and its iss, aud and exp claims (OpenID Connect Core §3.1.3.7). When
// nonce is not empty the token must carry the same nonce.
func VerifyIDToken(ctx context.Context, hc *http.Client, ep Endpoints, clientID, raw, nonce string, now func() time.Time) (*Identity, error) {
	if !ep.IsOIDC() {
		return nil, errors.New("cannot verify the ID token: the provider has no issuer and JWKS URL configured")
	}
	if now == nil {
		now = time.Now
	}
	if len(raw) > maxIDToken {
		return nil, fmt.Errorf("the ID token failed verification: it is %d bytes, over the %d sesame accepts", len(raw), maxIDToken)
	}
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(ctx, hc), ep.JWKS)
	v := oidc.NewVerifier(ep.Issuer, keys, &oidc.Config{
		ClientID:             clientID,
		SupportedSigningAlgs: asymmetricAlgs,
		Now:                  func() time.Time { return now().Add(-ClockSkew) },
	})
	tok, err := v.Verify(oidc.ClientContext(ctx, hc), raw)
	if err != nil {
		return nil, fmt.Errorf("the ID token failed verification: %w", err)
	}
	// go-oidc does not look at iat; a token from the future means a broken
	// clock or a forgery (OpenID Connect Core §3.1.3.7 step 10).
	if tok.IssuedAt.After(now().Add(ClockSkew)) {
		return nil, fmt.Errorf("the ID token failed verification: it was issued in the future (iat %s; check this machine's clock)", tok.IssuedAt.UTC().Format(time.RFC3339))
	}
	if nonce != "" && subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(nonce)) != 1 {
		return nil, errors.New("the ID token failed verification: its nonce does not match this login (a replayed or injected response)")
	}
	var id Identity
	if err := tok.Claims(&id); err != nil {
		return nil, fmt.Errorf("read ID token claims: %w", err)
	}
	id.Nonce, id.Expiry = tok.Nonce, tok.Expiry
	return &id, nil
}

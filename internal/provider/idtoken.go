package provider

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/sesame-cli/sesame/internal/term"
)

// SigningAlgs returns the only signature algorithms sesame accepts from a
// provider, a new slice each time: VerifyIDToken verifies ID tokens with
// them, `sesame claims` (package inspect) checks tokens with them, and
// `sesame doctor` looks for them among the provider's. "none" and the HMAC
// family are left out on purpose: a public client has no shared secret, so
// an HS256 token "signed" with the provider's public key is a forgery
// (RFC 8725 §2.1, §3.1).
func SigningAlgs() []string {
	return []string{
		oidc.RS256, oidc.RS384, oidc.RS512,
		oidc.PS256, oidc.PS384, oidc.PS512,
		oidc.ES256, oidc.ES384, oidc.ES512,
		oidc.EdDSA,
	}
}

// AcceptsAlg reports whether alg is among SigningAlgs.
func AcceptsAlg(alg string) bool { return slices.Contains(SigningAlgs(), alg) }

// maxIDToken bounds what is parsed; real ID tokens are a few KiB.
const maxIDToken = 64 << 10

// ClockSkew is the tolerance for exp, nbf and iat wherever sesame checks
// them (here, and inspect's default): laptops' and providers' clocks drift,
// and RFC 7519 §4.1.4 allows "a small leeway". Past it, `sesame doctor`
// reports the clock as failing.
const ClockSkew = 60 * time.Second

// Identity is what sesame keeps from a verified ID token.
type Identity struct {
	Subject string `json:"sub"`
	Name    string `json:"name,omitempty"`
	Email   string `json:"email,omitempty"`
	// Username is preferred_username, for providers that give no name.
	Username string `json:"preferred_username,omitempty"`
	// Organizations is Logto's claim: the organizations the user belongs
	// to, offered by shell completion of organization ids.
	Organizations []string `json:"organizations,omitempty"`
	Nonce         string   `json:"-"`
	Expiry        time.Time
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
	kctx := oidc.ClientContext(ctx, keysClient(hc))
	keys := oidc.NewRemoteKeySet(kctx, ep.JWKS)
	v := oidc.NewVerifier(ep.Issuer, keys, &oidc.Config{
		ClientID:             clientID,
		SupportedSigningAlgs: SigningAlgs(),
		Now:                  func() time.Time { return now().Add(-ClockSkew) },
	})
	tok, err := v.Verify(kctx, raw)
	if err != nil {
		// go-oidc quotes the token's own iss and aud in its messages.
		return nil, fmt.Errorf("the ID token failed verification: %w", term.CleanError(err))
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
	var azp struct {
		Value string `json:"azp"`
	}
	_ = tok.Claims(&azp) // the same payload decoded just above
	if err := checkIDTokenRules(raw, tok.Audience, id.Subject, azp.Value, clientID); err != nil {
		return nil, fmt.Errorf("the ID token failed verification: %w", err)
	}
	id.Nonce, id.Expiry = tok.Nonce, tok.Expiry
	return &id, nil
}

// checkIDTokenRules applies what go-oidc leaves to the caller, after the
// signature, iss, aud and exp have been verified:
//   - typ: a JWT access token (RFC 9068 "at+jwt") or any other "+jwt" type
//     (logout, DPoP proof, security event) is not an ID token, even when it
//     is signed by the same key and names the same audience (RFC 8725 §3.11
//     explicit typing, §2.8 substitution attacks);
//   - sub is required (OpenID Connect Core §2);
//   - with several audiences azp is required, and when present it must be
//     this client (Core §3.1.3.7 steps 4 and 5): otherwise a token minted
//     for another party that merely lists us would be accepted.
func checkIDTokenRules(raw string, aud []string, sub, azp, clientID string) error {
	if typ := headerType(raw); isOtherJWTType(typ) {
		return fmt.Errorf("its typ is %q: that is another kind of token, not an ID token (RFC 8725 §3.11)", term.Clean(typ))
	}
	if sub == "" {
		return errors.New("it has no sub claim, which every ID token must have (OpenID Connect Core §2)")
	}
	if len(aud) > 1 && azp == "" {
		return fmt.Errorf("it names %d audiences but no azp; with several audiences the azp must name this client (OpenID Connect Core §3.1.3.7)", len(aud))
	}
	if azp != "" && azp != clientID {
		return fmt.Errorf("its azp is %q, not this client %q: it was issued to another party (OpenID Connect Core §3.1.3.7)", term.Clean(azp), clientID)
	}
	return nil
}

// headerType returns the typ of a compact JWS's protected header, "" when
// there is none or it cannot be read (the signature check has already
// parsed the header, so that only happens for an absent typ).
func headerType(raw string) string {
	seg, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return ""
	}
	var h struct {
		Typ string `json:"typ"`
	}
	if json.Unmarshal(b, &h) != nil {
		return ""
	}
	return h.Typ
}

// isOtherJWTType reports typ values that name a JWT of another kind:
// "at+jwt", "application/at+jwt", "logout+jwt", "dpop+jwt" and so on. An
// absent typ, "JWT" and "application/jwt" are what ID tokens carry.
func isOtherJWTType(typ string) bool {
	t := strings.ToLower(strings.TrimPrefix(strings.ToLower(typ), "application/"))
	return strings.HasSuffix(t, "+jwt")
}

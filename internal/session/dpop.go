package session

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/sesame-cli/sesame/internal/dpop"
)

// Key returns the DPoP key the tokens are bound to (RFC 9449), or nil for
// bearer tokens.
func (t *Tokens) Key() (*dpop.Key, error) {
	if len(t.DPoPKey) == 0 {
		return nil, nil
	}
	k, err := dpop.Parse(t.DPoPKey)
	if err != nil {
		return nil, fmt.Errorf("the stored DPoP key is unusable (%w); log in again", err)
	}
	return k, nil
}

// Bound reports whether the tokens are sender-constrained with DPoP.
func (t *Tokens) Bound() bool { return len(t.DPoPKey) > 0 }

// AuthScheme is the Authorization scheme that presents a token of
// tokenType: DPoP for a bound token (RFC 9449 §7.1), else Bearer (RFC
// 6750 §2.1, whatever case the provider wrote it in).
func AuthScheme(tokenType string) string {
	if strings.EqualFold(tokenType, "DPoP") {
		return "DPoP"
	}
	return "Bearer"
}

// HTTPFor returns the client that presents t's access token: s.HTTP for a
// bearer token; for a bound one, a copy that adds a fresh proof to every
// request and answers a resource server's nonce challenge (RFC 9449 §9).
func (s *Session) HTTPFor(t *Tokens) (*http.Client, error) {
	key, err := t.Key()
	if err != nil || key == nil {
		return s.HTTP, err
	}
	hc := &http.Client{}
	if s.HTTP != nil {
		*hc = *s.HTTP
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &dpop.Transport{Base: base, Key: key}
	return hc, nil
}

// Binding is what `status` shows of a DPoP-bound login, without asking
// anyone: the stored key's thumbprint, and the cnf.jkt a JWT access token
// names (RFC 9449 §6.1) as the token itself says, unverified (`sesame
// claims --access-token` verifies it).
type Binding struct {
	KeyJKT string `json:"jkt"`
	// TokenJKT is the access token's cnf.jkt; empty when the token is
	// opaque or names none.
	TokenJKT string `json:"access_token_jkt"`
	// Matches is nil when the access token does not say (opaque).
	Matches *bool `json:"matches"`
	// Error says why the stored key cannot be used.
	Error string `json:"error,omitempty"`
}

// Binding returns t's DPoP binding, nil for bearer tokens.
func (t *Tokens) Binding() *Binding {
	if !t.Bound() {
		return nil
	}
	k, err := t.Key()
	if err != nil {
		return &Binding{Error: err.Error()}
	}
	b := &Binding{KeyJKT: k.Thumbprint(), TokenJKT: unverifiedJKT(t.AccessToken)}
	if b.TokenJKT != "" {
		m := b.TokenJKT == b.KeyJKT
		b.Matches = &m
	}
	return b
}

// unverifiedJKT reads cnf.jkt from a JWT's payload without checking
// anything: for display next to a thumbprint sesame computed itself.
func unverifiedJKT(token string) string {
	var c struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if !peek(token, &c) || !dpop.ValidNonce(c.Cnf.JKT) || len(c.Cnf.JKT) > 64 {
		return ""
	}
	return c.Cnf.JKT
}

// SessionID is the sid of a sesame-broker session token, as the token
// says (unverified, for display), or "".
func (t *Tokens) SessionID() string {
	var c struct {
		SID string `json:"sid"`
	}
	if t.Provider == "" || !peek(t.AccessToken, &c) || !dpop.ValidNonce(c.SID) || len(c.SID) > 64 {
		return ""
	}
	return c.SID
}

// peek decodes a JWT's payload into v without verifying anything.
func peek(token string, v any) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	return err == nil && json.Unmarshal(raw, v) == nil
}

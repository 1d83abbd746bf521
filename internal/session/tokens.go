// Package session keeps one profile's login: the token set in a store,
// loaded, refreshed when near expiry, and saved back whole; plus the
// access tokens for other resources (RFC 8707) and Logto organizations that
// the same refresh token yields, each in its own entry.
package session

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/sesame-cli/sesame/internal/provider"
)

// formatVersion lets later releases read what earlier ones wrote.
const formatVersion = 1

// Tokens is one stored login. It carries the endpoints it came from so that
// commands on the hot path (sesame token) never need discovery.
type Tokens struct {
	Version      int                `json:"version"`
	ClientID     string             `json:"client_id"`
	Endpoints    provider.Endpoints `json:"endpoints"`
	AccessToken  string             `json:"access_token"`
	TokenType    string             `json:"token_type,omitempty"`
	RefreshToken string             `json:"refresh_token,omitempty"`
	IDToken      string             `json:"id_token,omitempty"`
	Expiry       time.Time          `json:"expiry,omitzero"`
	// ObtainedAt is when the access (and ID) token came: with Expiry, the
	// lifetime the provider gives its tokens.
	ObtainedAt time.Time          `json:"obtained_at,omitzero"`
	Scope      string             `json:"scope,omitempty"`
	Identity   *provider.Identity `json:"identity,omitempty"`
	// Provider is the upstream's name when the tokens are sesame-broker
	// session tokens (session mode).
	Provider string `json:"provider,omitempty"`
	// DPoPKey is the private key the tokens are bound to (RFC 9449), as a
	// JWK, when the login used DPoP: kept in the same entry as the tokens,
	// so it goes wherever they go, and only there.
	DPoPKey json.RawMessage `json:"dpop_key,omitempty"`
	// Derived lists the store keys of resource and organization tokens
	// obtained with this login, so they go when the login goes.
	Derived   []string  `json:"derived,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	// Ended, when set, records that the provider refused the refresh token
	// (invalid_grant: revoked, expired, or reuse detected): the grant is
	// over, so the entry keeps no token, only who it was and why it ended.
	// Load reports such an entry as a LoginRequiredError. The format version
	// stays 1: an older sesame ignores the field and finds no access token,
	// which it also reports as a login to renew.
	Ended *Ended `json:"ended,omitempty"`

	// stored, when Load applied the profile's endpoint settings to
	// Endpoints, is what the entry itself holds: save writes that back, so
	// a setting given for one command (SESAME_USERINFO_URL=…) applies to
	// that command and is not kept with the login.
	stored *provider.Endpoints
}

// Ended is when and why the provider ended a login's grant.
type Ended struct {
	At time.Time `json:"at"`
	// Reason is the provider's answer: its error code and description.
	Reason string `json:"reason"`
}

// ExpiresWithin reports whether the access token is expired or will be
// within d. A token without a known expiry is taken as valid: the provider
// sent no expires_in, so only a refused request can tell.
func (t *Tokens) ExpiresWithin(now time.Time, d time.Duration) bool {
	return expiresWithin(t.Expiry, now, d)
}

func expiresWithin(exp, now time.Time, d time.Duration) bool {
	return !exp.IsZero() && !now.Add(d).Before(exp)
}

// Target names the audience of an access token: the login's own (zero
// value), an RFC 8707 resource, a Logto organization, or both.
type Target struct {
	Resource string
	Org      string
}

// IsBase reports whether t is the login's own access token.
func (t Target) IsBase() bool { return t == Target{} }

// key is where t's token is stored, under base, the login's own key
// (Session.key): hashed, so URLs and ids of any length make short, safe
// keychain account names.
func (t Target) key(base string) string {
	sum := sha256.Sum256([]byte(t.Org + "\n" + t.Resource))
	return base + "/token/" + hex.EncodeToString(sum[:12])
}

func (t Target) params() url.Values {
	v := url.Values{}
	if t.Resource != "" {
		v.Set("resource", t.Resource)
	}
	if t.Org != "" {
		v.Set("organization_id", t.Org)
	}
	return v
}

func (t Target) String() string {
	switch {
	case t.Org != "" && t.Resource != "":
		return fmt.Sprintf("organization %s and resource %s", t.Org, t.Resource)
	case t.Org != "":
		return "organization " + t.Org
	case t.Resource != "":
		return "resource " + t.Resource
	}
	return "the login"
}

// Derived is an access token for a Target, obtained with the login's
// refresh token. It holds no refresh token: that stays in Tokens only, so
// exactly one current refresh token exists.
type Derived struct {
	Version     int       `json:"version"`
	Resource    string    `json:"resource,omitempty"`
	Org         string    `json:"organization_id,omitempty"`
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"`
	Scope       string    `json:"scope,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func encode(v any) ([]byte, error) { return json.Marshal(v) }

func decode(b []byte) (*Tokens, error) {
	var t Tokens
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("stored tokens are not valid JSON: %w", err)
	}
	if t.Version != formatVersion {
		return nil, fmt.Errorf("stored tokens have format version %d, this sesame reads %d", t.Version, formatVersion)
	}
	if t.AccessToken == "" && t.Ended == nil {
		return nil, fmt.Errorf("stored tokens hold no access token")
	}
	return &t, nil
}

func decodeDerived(b []byte) (*Derived, error) {
	var d Derived
	if err := json.Unmarshal(b, &d); err != nil || d.Version != formatVersion || d.AccessToken == "" {
		return nil, fmt.Errorf("stored token is unreadable")
	}
	return &d, nil
}

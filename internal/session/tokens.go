// Package session keeps one profile's login: the token set in a store,
// loaded, refreshed when near expiry, and saved back whole.
package session

import (
	"encoding/json"
	"fmt"
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
	Scope        string             `json:"scope,omitempty"`
	Identity     *provider.Identity `json:"identity,omitempty"`
	UpdatedAt    time.Time          `json:"updated_at"`
}

// ExpiresWithin reports whether the access token is expired or will be
// within d. A token without a known expiry is taken as valid: the provider
// sent no expires_in, so only a refused request can tell.
func (t *Tokens) ExpiresWithin(now time.Time, d time.Duration) bool {
	return !t.Expiry.IsZero() && !now.Add(d).Before(t.Expiry)
}

func (t *Tokens) encode() ([]byte, error) {
	t.Version = formatVersion
	return json.Marshal(t)
}

func decode(b []byte) (*Tokens, error) {
	var t Tokens
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("stored tokens are not valid JSON: %w", err)
	}
	if t.Version != formatVersion {
		return nil, fmt.Errorf("stored tokens have format version %d, this sesame reads %d", t.Version, formatVersion)
	}
	if t.AccessToken == "" {
		return nil, fmt.Errorf("stored tokens hold no access token")
	}
	return &t, nil
}

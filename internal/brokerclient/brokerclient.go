// Package brokerclient reads what a sesame-broker in session mode offers:
// its metadata (issuer, keys, session endpoints) and the upstream
// providers it signs users in with. A login in session mode runs the
// browser against the upstream provider, as any login does, and redeems
// the code at the broker, which answers with its own session token.
package brokerclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/term"
)

// Metadata is the broker's discovery document in session mode.
type Metadata struct {
	Issuer                string   `json:"issuer"`
	JWKSURI               string   `json:"jwks_uri"`
	TokenEndpoint         string   `json:"token_endpoint"`
	RevocationEndpoint    string   `json:"revocation_endpoint"`
	IntrospectionEndpoint string   `json:"introspection_endpoint"`
	ProvidersEndpoint     string   `json:"providers_endpoint"`
	DPoPAlgs              []string `json:"dpop_signing_alg_values_supported"`
}

// Provider is one upstream identity provider the broker signs in with.
type Provider struct {
	Name     string   `json:"name"`
	Issuer   string   `json:"issuer"`
	ClientID string   `json:"client_id"`
	Scopes   []string `json:"scopes"`
}

// Providers is the broker's list of upstreams, and how recent a sign-in
// must be for it to mint a session (max_age, seconds, OpenID Connect Core
// §3.1.2.1).
type Providers struct {
	Providers []Provider `json:"providers"`
	MaxAge    int        `json:"max_age"`
}

// Discover reads the broker's metadata at brokerURL. Every endpoint must
// pass the one URL policy and sit on the issuer's origin: a broker is one
// service, and the session tokens it names go nowhere else.
func Discover(ctx context.Context, hc *http.Client, brokerURL string) (*Metadata, error) {
	var md Metadata
	if err := getJSON(ctx, hc, strings.TrimSuffix(brokerURL, "/")+"/.well-known/openid-configuration", &md); err != nil {
		return nil, err
	}
	if md.Issuer == "" || md.TokenEndpoint == "" || md.JWKSURI == "" || md.ProvidersEndpoint == "" {
		return nil, fmt.Errorf("sesame-broker at %s does not offer sessions (its discovery document names no issuer, token endpoint, jwks_uri or providers endpoint); is the sessions block in its configuration?", brokerURL)
	}
	iss, err := url.Parse(md.Issuer)
	if err != nil || httpx.CheckEndpoint(md.Issuer) != nil {
		return nil, fmt.Errorf("sesame-broker at %s names an unusable issuer %q", brokerURL, term.Clean(md.Issuer))
	}
	for _, ep := range []struct{ name, u string }{
		{"jwks_uri", md.JWKSURI}, {"token_endpoint", md.TokenEndpoint}, {"revocation_endpoint", md.RevocationEndpoint},
		{"introspection_endpoint", md.IntrospectionEndpoint}, {"providers_endpoint", md.ProvidersEndpoint},
	} {
		if ep.u == "" {
			continue
		}
		u, err := url.Parse(ep.u)
		if err != nil || httpx.CheckEndpoint(ep.u) != nil || httpx.Origin(u) != httpx.Origin(iss) {
			return nil, fmt.Errorf("sesame-broker at %s: its %s %q is not on its issuer's origin %s", brokerURL, ep.name, term.Clean(ep.u), httpx.Origin(iss))
		}
	}
	return &md, nil
}

// ListProviders reads the broker's upstream providers.
func ListProviders(ctx context.Context, hc *http.Client, brokerURL string) (*Providers, error) {
	var ps Providers
	if err := getJSON(ctx, hc, strings.TrimSuffix(brokerURL, "/")+"/providers", &ps); err != nil {
		return nil, err
	}
	for _, p := range ps.Providers {
		if err := httpx.CheckEndpoint(p.Issuer); err != nil || p.Name == "" || p.ClientID == "" {
			return nil, fmt.Errorf("sesame-broker at %s lists an unusable provider %q", brokerURL, term.Clean(p.Name))
		}
	}
	return &ps, nil
}

// Find returns the provider called name, or an error listing the others.
func (ps *Providers) Find(name string) (Provider, error) {
	names := make([]string, 0, len(ps.Providers))
	for _, p := range ps.Providers {
		if p.Name == name {
			return p, nil
		}
		names = append(names, term.Clean(p.Name))
	}
	slices.Sort(names)
	if len(names) == 0 {
		return Provider{}, fmt.Errorf("the broker lists no providers")
	}
	return Provider{}, fmt.Errorf("the broker has no provider %q; it has: %s (pass one with --provider)", term.Clean(name), strings.Join(names, ", "))
}

func getJSON(ctx context.Context, hc *http.Client, u string, v any) error {
	resp, err := httpx.GetDocument(ctx, hc, u, http.Header{"Accept": {"application/json"}})
	if err != nil {
		if ur := httpx.Unreachable(err, "sesame-broker"); ur != nil {
			return ur
		}
		return fmt.Errorf("ask sesame-broker: %w", err)
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("sesame-broker answered HTTP %d for %s", resp.Status, u)
	}
	if err := json.Unmarshal(resp.Body, v); err != nil {
		return fmt.Errorf("sesame-broker's answer at %s is not the JSON expected: %v", u, err)
	}
	return nil
}

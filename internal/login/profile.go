package login

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/dpop"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/term"
)

// DefaultScopes are asked for when an OpenID Connect profile names none.
var DefaultScopes = []string{"openid", "profile", "email", "offline_access"}

// DefaultTimeout is how long a login waits for the browser by default.
const DefaultTimeout = 5 * time.Minute

// ForProfile prepares the login profile p asks for: its provider's
// endpoints (discovery, with those the profile names itself taking
// precedence), its scopes (DefaultScopes for an OpenID Connect profile
// that names none), resources, parameters, port, and where the code is
// exchanged and authorization requests are pushed (sesame-broker's token
// and /par endpoints when p has a broker), and whether the request is
// checked before the browser opens (no_preflight). The caller adds the
// interaction: browser, streams, clock, timeout, Save.
// `sesame login` and `sesame doctor --login` both start here.
func ForProfile(ctx context.Context, hc *http.Client, p config.Profile) (Options, error) {
	if p.Provider != "" {
		return forSession(ctx, hc, p)
	}
	ep, err := provider.Resolve(ctx, hc, session.ProfileEndpoints(p))
	if err != nil {
		return Options{}, fmt.Errorf("find the provider's endpoints: %w", err)
	}
	scopes := p.Scopes
	if len(scopes) == 0 && p.Issuer != "" {
		scopes = DefaultScopes
	}
	o := Options{
		Endpoints: ep, ClientID: p.ClientID,
		Scopes: scopes, Resources: p.Resources, Params: p.Params, Port: p.Port,
		HTTP: hc, Timeout: DefaultTimeout, TokenURL: session.BrokerURL(p.Broker, "/token"),
		PushURL: session.BrokerURL(p.Broker, "/par"), NoPreflight: p.NoPreflight,
	}
	if p.DPoP {
		if o.DPoP, err = newDPoPKey(ep.DPoPAlgs); err != nil {
			return Options{}, err
		}
	}
	return o, nil
}

// newDPoPKey makes the key a DPoP login binds its tokens to: a new one for
// every login, so that a logout leaves nothing a later login could reuse.
// The algorithm is ES256 unless the provider prefers EdDSA (RFC 9449 §5.1's
// dpop_signing_alg_values_supported).
func newDPoPKey(supported []string) (*dpop.Key, error) {
	alg := dpop.ChooseAlg(supported)
	if alg == "" {
		return nil, fmt.Errorf("the provider accepts DPoP proofs signed with %s only, and sesame signs with ES256 or EdDSA; log in without DPoP (dpop: false)",
			strings.Join(cleanAll(supported), ", "))
	}
	k, err := dpop.Generate(alg)
	if err != nil {
		return nil, fmt.Errorf("make a DPoP key: %w", err)
	}
	return k, nil
}

// cleanAll makes a provider's list printable (term.Clean), at most 8 items.
func cleanAll(list []string) []string {
	out := make([]string, 0, min(len(list), 8))
	for _, s := range list[:min(len(list), 8)] {
		out = append(out, term.Clean(s))
	}
	return out
}

// Survey is what a provider's discovery document says about it, for
// writing a new profile (`sesame init`).
type Survey struct {
	Issuer                          string
	S256, Refresh, Device, IssParam bool
	// Scopes are the ones to suggest: what the provider offers of the
	// usual OpenID Connect scopes, and Logto's organizations scope.
	Scopes []string
}

// Discover reads issuer's discovery document and suggests a profile.
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Survey, error) {
	md, err := provider.Discover(ctx, hc, issuer)
	if err != nil {
		return nil, err
	}
	return &Survey{
		Issuer:   md.Issuer,
		S256:     slices.Contains(md.CodeChallengeMethodsSupported, "S256"),
		Refresh:  slices.Contains(md.ScopesSupported, "offline_access"),
		Device:   md.DeviceAuthorizationEndpoint != "",
		IssParam: md.IssParameterSupported,
		Scopes:   suggestScopes(md.ScopesSupported),
	}, nil
}

func suggestScopes(supported []string) []string {
	if len(supported) == 0 {
		return DefaultScopes
	}
	var out []string
	for _, s := range append(slices.Clone(DefaultScopes), session.OrganizationsScope) {
		if s == "openid" || slices.Contains(supported, s) {
			out = append(out, s)
		}
	}
	return out
}

package login

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/session"
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
	ep, err := provider.Resolve(ctx, hc, session.ProfileEndpoints(p))
	if err != nil {
		return Options{}, fmt.Errorf("find the provider's endpoints: %w", err)
	}
	scopes := p.Scopes
	if len(scopes) == 0 && p.Issuer != "" {
		scopes = DefaultScopes
	}
	return Options{
		Endpoints: ep, ClientID: p.ClientID,
		Scopes: scopes, Resources: p.Resources, Params: p.Params, Port: p.Port,
		HTTP: hc, Timeout: DefaultTimeout, TokenURL: session.BrokerURL(p.Broker, "/token"),
		PushURL: session.BrokerURL(p.Broker, "/par"), NoPreflight: p.NoPreflight,
	}, nil
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

package provider

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// Endpoints is everything sesame needs to talk to one provider. It is
// stored with the tokens at login so that later commands (token, refresh,
// revoke) work without another discovery round trip.
type Endpoints struct {
	Issuer        string `json:"issuer,omitempty"`
	Auth          string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
	Userinfo      string `json:"userinfo_endpoint,omitempty"`
	JWKS          string `json:"jwks_uri,omitempty"`
	Revocation    string `json:"revocation_endpoint,omitempty"`
	Introspection string `json:"introspection_endpoint,omitempty"`
	EndSession    string `json:"end_session_endpoint,omitempty"`
	Device        string `json:"device_authorization_endpoint,omitempty"`
	// PAR is the RFC 9126 pushed authorization request endpoint, where a
	// login checks its request before the browser opens; PARRequired is
	// require_pushed_authorization_requests (RFC 9126 §5).
	PAR         string `json:"pushed_authorization_request_endpoint,omitempty"`
	PARRequired bool   `json:"par_required,omitempty"`
	// IssParameter is RFC 9207's authorization_response_iss_parameter_supported:
	// when true, an authorization response without a matching iss is refused.
	IssParameter bool `json:"iss_parameter,omitempty"`
	// IDTokenAlgs lists the algorithms the provider signs ID tokens with.
	IDTokenAlgs []string `json:"id_token_algs,omitempty"`
	// CodeChallengeMethods is empty when the provider does not say.
	CodeChallengeMethods []string `json:"code_challenge_methods,omitempty"`
	// RevocationAuth is revocation_endpoint_auth_methods_supported
	// (RFC 8414 §2), empty when the provider does not say.
	RevocationAuth []string `json:"revocation_auth_methods,omitempty"`
	// DPoPAlgs is dpop_signing_alg_values_supported (RFC 9449 §5.1),
	// empty when the provider does not say.
	DPoPAlgs []string `json:"dpop_algs,omitempty"`
}

// IsOIDC reports whether ID tokens from this provider can be verified.
func (e Endpoints) IsOIDC() bool { return e.Issuer != "" && e.JWKS != "" }

// FromMetadata turns a discovery document into Endpoints.
func FromMetadata(md *Metadata) Endpoints {
	return Endpoints{
		Issuer:               md.Issuer,
		Auth:                 md.AuthorizationEndpoint,
		Token:                md.TokenEndpoint,
		Userinfo:             md.UserinfoEndpoint,
		JWKS:                 md.JWKSURI,
		Revocation:           md.RevocationEndpoint,
		Introspection:        md.IntrospectionEndpoint,
		EndSession:           md.EndSessionEndpoint,
		Device:               md.DeviceAuthorizationEndpoint,
		PAR:                  md.PushedAuthorizationRequestEndpoint,
		PARRequired:          md.RequirePushedAuthorizationRequests,
		IssParameter:         md.IssParameterSupported,
		IDTokenAlgs:          md.IDTokenSigningAlgValuesSupported,
		CodeChallengeMethods: md.CodeChallengeMethodsSupported,
		RevocationAuth:       md.RevocationEndpointAuthMethodsSupported,
		DPoPAlgs:             md.DPoPSigningAlgValuesSupported,
	}
}

// Resolve finds a provider's endpoints. With an issuer it runs discovery and
// lets any explicit endpoint in override win (some providers publish wrong
// or incomplete documents); without one, override must name at least the
// authorization and token endpoints, as plain OAuth 2.0 providers such as
// GitHub OAuth apps publish no discovery document.
//
// Every endpoint, discovered or configured, must pass httpx.CheckEndpoint
// before anything is sent: a discovery document is as untrusted as any
// other input, and it is where the code and tokens would go.
func Resolve(ctx context.Context, hc *http.Client, override Endpoints) (Endpoints, error) {
	ep := Endpoints{}
	docURL := ""
	if override.Issuer != "" {
		md, err := Discover(ctx, hc, override.Issuer)
		if err != nil {
			return Endpoints{}, err
		}
		ep, docURL = FromMetadata(md), md.URL
	}
	merge(&ep.Auth, override.Auth)
	merge(&ep.Token, override.Token)
	merge(&ep.Userinfo, override.Userinfo)
	merge(&ep.JWKS, override.JWKS)
	merge(&ep.Revocation, override.Revocation)
	merge(&ep.Introspection, override.Introspection)
	merge(&ep.EndSession, override.EndSession)
	merge(&ep.Device, override.Device)
	if ep.Auth == "" || ep.Token == "" {
		return Endpoints{}, fmt.Errorf("no provider configured: set an issuer, or auth_url and token_url for a plain OAuth 2.0 provider")
	}
	if err := checkEndpoints(ep, override, docURL); err != nil {
		return Endpoints{}, err
	}
	return ep, nil
}

// checkEndpoints applies the one URL policy to each resolved endpoint and
// says where a bad one came from: the profile setting (file, environment
// or flag) that overrode discovery, or the discovery document.
func checkEndpoints(ep, override Endpoints, docURL string) error {
	for _, f := range []struct{ field, key, val, over string }{
		{"authorization_endpoint", "auth_url", ep.Auth, override.Auth},
		{"token_endpoint", "token_url", ep.Token, override.Token},
		{"userinfo_endpoint", "userinfo_url", ep.Userinfo, override.Userinfo},
		{"jwks_uri", "jwks_url", ep.JWKS, override.JWKS},
		{"revocation_endpoint", "revocation_url", ep.Revocation, override.Revocation},
		{"introspection_endpoint", "introspection_url", ep.Introspection, override.Introspection},
		{"end_session_endpoint", "end_session_url", ep.EndSession, override.EndSession},
		{"device_authorization_endpoint", "device_url", ep.Device, override.Device},
		{"pushed_authorization_request_endpoint", "", ep.PAR, override.PAR},
	} {
		if f.val == "" {
			continue
		}
		if err := httpx.CheckEndpoint(f.val); err != nil {
			switch {
			case f.key == "" && docURL != "":
				return fmt.Errorf("the discovery document at %s has an unusable %s: %w; the provider must fix its metadata", docURL, f.field, err)
			case f.key == "":
				return fmt.Errorf("the %s: %w", f.field, err)
			case f.over != "" || docURL == "":
				return fmt.Errorf("the profile's %s: %w", f.key, err)
			}
			return fmt.Errorf("the discovery document at %s has an unusable %s: %w; the provider must fix its metadata, or set %s in the profile", docURL, f.field, err, f.key)
		}
	}
	return nil
}

func merge(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// SupportsS256 reports whether the provider may accept PKCE S256. A provider
// that does not advertise code_challenge_methods_supported gets the benefit
// of the doubt: many support PKCE without saying so.
func (e Endpoints) SupportsS256() bool {
	return len(e.CodeChallengeMethods) == 0 || slices.Contains(e.CodeChallengeMethods, "S256")
}

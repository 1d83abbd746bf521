package provider

import (
	"context"
	"fmt"
	"net/http"
	"slices"
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
	// IssParameter is RFC 9207's authorization_response_iss_parameter_supported:
	// when true, an authorization response without a matching iss is refused.
	IssParameter bool `json:"iss_parameter,omitempty"`
	// IDTokenAlgs lists the algorithms the provider signs ID tokens with.
	IDTokenAlgs []string `json:"id_token_algs,omitempty"`
	// CodeChallengeMethods is empty when the provider does not say.
	CodeChallengeMethods []string `json:"code_challenge_methods,omitempty"`
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
		IssParameter:         md.IssParameterSupported,
		IDTokenAlgs:          md.IDTokenSigningAlgValuesSupported,
		CodeChallengeMethods: md.CodeChallengeMethodsSupported,
	}
}

// Resolve finds a provider's endpoints. With an issuer it runs discovery and
// lets any explicit endpoint in override win (some providers publish wrong
// or incomplete documents); without one, override must name at least the
// authorization and token endpoints, as plain OAuth 2.0 providers such as
// GitHub OAuth apps publish no discovery document.
func Resolve(ctx context.Context, hc *http.Client, override Endpoints) (Endpoints, error) {
	ep := Endpoints{}
	if override.Issuer != "" {
		md, err := Discover(ctx, hc, override.Issuer)
		if err != nil {
			return Endpoints{}, err
		}
		ep = FromMetadata(md)
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
	return ep, nil
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

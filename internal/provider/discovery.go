// Package provider describes an identity provider: where its endpoints are
// (from OpenID Connect Discovery, RFC 8414, or explicit profile settings)
// and how its ID tokens are verified.
package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// Metadata is the part of a discovery document sesame uses
// (OpenID Connect Discovery 1.0 §3, RFC 8414 §2, RFC 9207 §3).
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint,omitempty"`
	JWKSURI                           string   `json:"jwks_uri,omitempty"`
	RevocationEndpoint                string   `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint,omitempty"`
	EndSessionEndpoint                string   `json:"end_session_endpoint,omitempty"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint,omitempty"`
	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported            []string `json:"response_types_supported,omitempty"`
	GrantTypesSupported               []string `json:"grant_types_supported,omitempty"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported,omitempty"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported,omitempty"`
	IssParameterSupported             bool     `json:"authorization_response_iss_parameter_supported,omitempty"`

	// How the revocation endpoint wants clients to authenticate (RFC 8414
	// §2; client_secret_basic when the provider does not say).
	RevocationEndpointAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`

	// Where a login pushes its authorization request before the browser
	// opens, and whether the provider takes no other kind (RFC 9126 §5).
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint,omitempty"`
	RequirePushedAuthorizationRequests bool   `json:"require_pushed_authorization_requests,omitempty"`

	// The JWS algorithms the provider accepts in DPoP proofs (RFC 9449
	// §5.1); absent when it does not say, or does not support DPoP.
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`

	// URL is where the document was found, for messages about it.
	URL string `json:"-"`
}

// IssuerMismatchError reports a discovery document whose issuer differs from
// the configured one. OpenID Connect Discovery §4.3 requires an exact match;
// a trailing slash is the usual culprit.
type IssuerMismatchError struct {
	URL, Want, Got string
}

func (e *IssuerMismatchError) Error() string {
	return fmt.Sprintf("the discovery document at %s names issuer %q, but the profile says %q; they must match exactly (check for a trailing slash or a missing path)", e.URL, e.Got, e.Want)
}

// DiscoveryURLs returns where an issuer's metadata may be found: the
// OpenID Connect location, ISSUER/.well-known/openid-configuration (OpenID
// Connect Discovery §4.1), and the RFC 8414 §3.1 one, which inserts the
// well-known segment before the issuer's path. Discover and `sesame
// doctor` try them in that order, the second only after a 404.
func DiscoveryURLs(issuer string) (oidcURL, rfc8414URL string, err error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", "", fmt.Errorf("issuer %q is not an absolute URL", issuer)
	}
	alt := *u
	alt.Path = "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.Path, "/")
	alt.RawPath = ""
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration", alt.String(), nil
}

// Discover fetches the issuer's metadata. It tries the OpenID Connect
// location first and, when that is not found, the RFC 8414 location, since
// plain OAuth 2.0 servers publish only the latter (DiscoveryURLs).
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Metadata, error) {
	oidcURL, altURL, err := DiscoveryURLs(issuer)
	if err != nil {
		return nil, err
	}
	md, err := fetchMetadata(ctx, hc, oidcURL)
	var nf *notFoundError
	if errors.As(err, &nf) {
		var err2 error
		if md, err2 = fetchMetadata(ctx, hc, altURL); err2 != nil {
			return nil, err // the OpenID Connect error is the one users expect to read
		}
		oidcURL, err = altURL, nil
	}
	if err != nil {
		return nil, err
	}
	if md.Issuer != issuer {
		return nil, &IssuerMismatchError{URL: oidcURL, Want: issuer, Got: md.Issuer}
	}
	if md.AuthorizationEndpoint == "" || md.TokenEndpoint == "" {
		return nil, fmt.Errorf("the discovery document at %s lacks authorization_endpoint or token_endpoint", oidcURL)
	}
	md.URL = oidcURL
	return md, nil
}

type notFoundError struct{ url string }

func (e *notFoundError) Error() string { return "no discovery document at " + e.url + " (HTTP 404)" }

func fetchMetadata(ctx context.Context, hc *http.Client, docURL string) (*Metadata, error) {
	body, err := getJSON(ctx, hc, docURL)
	if err != nil {
		return nil, err
	}
	var md Metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("the discovery document at %s is not valid JSON: %w", docURL, err)
	}
	return &md, nil
}

// keysClient is the client go-oidc fetches JWK Sets with: redirects only
// within the origin, and a bounded body, since go-oidc reads it whole.
func keysClient(hc *http.Client) *http.Client { return httpx.SameOrigin(hc) }

// getJSON GETs a small JSON document and explains the usual failures. A
// document may move within its origin, never to another: that origin would
// choose the endpoints (httpx.GetDocument, which also bounds the body).
func getJSON(ctx context.Context, hc *http.Client, docURL string) ([]byte, error) {
	resp, err := httpx.GetDocument(ctx, hc, docURL, http.Header{"Accept": {"application/json"}})
	var rd *httpx.RedirectError
	switch {
	case resp == nil && errors.As(err, &rd):
		return nil, err // named after docURL
	case resp == nil && httpx.Unreachable(err, "") != nil:
		return nil, httpx.Unreachable(err, "") // the URL once, the cause, a hint
	case resp == nil && err != nil:
		return nil, fmt.Errorf("fetch %s: %w", docURL, err)
	case err == nil && httpx.HTTPSOnly(resp.Status, resp.Body):
		return nil, httpx.WrongScheme(docURL, "https")
	case err != nil:
		return nil, err // "read docURL: ..."
	case resp.Status == http.StatusNotFound:
		return nil, &notFoundError{url: docURL}
	case resp.Status != http.StatusOK:
		return nil, fmt.Errorf("%s answered HTTP %d", docURL, resp.Status)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); strings.Contains(mt, "html") {
		return nil, fmt.Errorf("%s returned an HTML page, not JSON (is the URL right?)", docURL)
	}
	return resp.Body, nil
}

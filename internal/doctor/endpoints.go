package doctor

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/provider"
)

// checkIssuer compares the document's issuer with the profile's. OpenID
// Connect Discovery §4.3 and RFC 8414 §3.3 require them to be identical,
// character for character, because the issuer is what ID tokens' iss and
// RFC 9207's iss parameter are matched against. A trailing slash or a
// missing tenant path is the most common misconfiguration there is, so the
// detail says how the two differ.
func checkIssuer(want string, md *provider.Metadata) Item {
	const check = "issuer"
	got := md.Issuer
	if got == want {
		return ok(check, got)
	}
	if got == "" {
		return fail(check, "the document has no issuer (OpenID Connect Discovery §3 requires one)",
			"the provider publishes an incomplete document; report it to its administrators")
	}
	detail := fmt.Sprintf("the document says %q, the profile says %q", got, want)
	gu, err1 := url.Parse(got)
	wu, err2 := url.Parse(want)
	switch {
	case strings.TrimRight(got, "/") == strings.TrimRight(want, "/"):
		detail += ": they differ only by a trailing slash"
	case strings.EqualFold(got, want):
		detail += ": they differ only in letter case"
	case err1 == nil && err2 == nil && gu.Host != wu.Host:
		detail += ": the hosts differ (a proxy, or the provider's public URL is misconfigured?)"
	case err1 == nil && err2 == nil && gu.Path != wu.Path:
		detail += ": the paths differ (a tenant or realm path?)"
	}
	return fail(check, detail, fmt.Sprintf("set the profile's issuer to exactly %q (OpenID Connect Discovery §4.3 requires an exact match)", got))
}

// endpoint is one URL in the metadata. cost says what sesame cannot do
// when an optional one is missing; key is the profile setting that can
// supply it instead.
type endpoint struct {
	name string
	url  func(*provider.Metadata) string
	cost string
	key  string
}

var endpoints = []endpoint{
	{name: "authorization_endpoint", url: func(m *provider.Metadata) string { return m.AuthorizationEndpoint }},
	{name: "token_endpoint", url: func(m *provider.Metadata) string { return m.TokenEndpoint }},
	{name: "jwks_uri", url: func(m *provider.Metadata) string { return m.JWKSURI }, key: "jwks_url"},
	{
		name: "userinfo_endpoint", url: func(m *provider.Metadata) string { return m.UserinfoEndpoint },
		cost: "sesame userinfo cannot fetch claims; only what the ID token carries is known", key: "userinfo_url",
	},
	{
		name: "revocation_endpoint", url: func(m *provider.Metadata) string { return m.RevocationEndpoint },
		cost: "sesame revoke/logout cannot revoke at the provider (RFC 7009); tokens stay valid there until they expire", key: "revocation_url",
	},
	{
		name: "introspection_endpoint", url: func(m *provider.Metadata) string { return m.IntrospectionEndpoint },
		cost: "sesame introspect cannot ask the provider whether a token is active (RFC 7662)", key: "introspection_url",
	},
	{
		name: "end_session_endpoint", url: func(m *provider.Metadata) string { return m.EndSessionEndpoint },
		cost: "sesame logout --end-session cannot sign out of the provider's browser session (OpenID Connect RP-Initiated Logout)", key: "end_session_url",
	},
	{
		name: "device_authorization_endpoint", url: func(m *provider.Metadata) string { return m.DeviceAuthorizationEndpoint },
		cost: "no device login (sesame login --device, RFC 8628) on machines without a browser",
	},
}

// checkEndpoints reports each endpoint. The authorization and token
// endpoints are what a login needs (RFC 8414 §2); jwks_uri is required of
// an OpenID provider (OpenID Connect Discovery §3) because ID tokens are
// verified with its keys; the rest are optional and each one missing
// costs a feature.
func checkEndpoints(md *provider.Metadata, oidc bool) []Item {
	items := make([]Item, 0, len(endpoints))
	for _, e := range endpoints {
		u := e.url(md)
		switch {
		case u != "":
			items = append(items, ok(e.name, u))
		case e.name == "jwks_uri" && oidc:
			items = append(items, fail(e.name, "missing: ID tokens cannot be verified (OpenID Connect Discovery §3 requires jwks_uri)",
				"set jwks_url in the profile, or fix the provider's metadata"))
		case e.name == "jwks_uri":
			items = append(items, warn(e.name, "missing: fine for a plain OAuth 2.0 server, but ID tokens cannot be verified",
				"set jwks_url in the profile if the provider issues ID tokens"))
		case e.cost == "":
			items = append(items, fail(e.name, "missing: login cannot work without it (RFC 8414 §2)",
				"fix the provider's metadata, or configure auth_url and token_url instead of an issuer"))
		default:
			remedy := "enable it at the provider if you need it"
			if e.key != "" {
				remedy = "if the provider has one anyway, set " + e.key + " in the profile"
			}
			items = append(items, warn(e.name, "not advertised: "+e.cost, remedy))
		}
	}
	return items
}

// checkHTTPS requires TLS for the issuer and every endpoint: codes, tokens
// and signing keys travel over them (RFC 6749 §3.1 and §3.2, OpenID Connect
// Discovery §3 for the issuer and jwks_uri, RFC 8414 §2). Loopback hosts
// are exempt, as in the profile's own validation, since traffic to them
// never leaves the machine; that is where development providers run. The
// loopback rule is httpx's, the one login applies (httpx.CheckEndpoint).
func checkHTTPS(issuer string, md *provider.Metadata) Item {
	const check = "https"
	urls := [][2]string{{"issuer", issuer}}
	for _, e := range endpoints {
		if u := e.url(md); u != "" {
			urls = append(urls, [2]string{e.name, u})
		}
	}
	var bad []string
	loopback := false
	for _, nu := range urls {
		u, err := url.Parse(nu[1])
		switch {
		case err != nil || !u.IsAbs() || u.Host == "":
			bad = append(bad, fmt.Sprintf("%s %q (not an absolute URL)", nu[0], nu[1]))
		case u.Scheme == "https":
		case u.Scheme == "http" && httpx.IsLoopback(u.Hostname()):
			loopback = true
		default:
			bad = append(bad, fmt.Sprintf("%s %s (not https)", nu[0], nu[1]))
		}
	}
	if len(bad) > 0 {
		return fail(check, strings.Join(bad, ", "),
			"the provider must publish https URLs (RFC 6749 §3.1); plain http is accepted only for loopback hosts")
	}
	if loopback {
		return ok(check, fmt.Sprintf("%d URLs use https or plain http on a loopback host", len(urls)))
	}
	return ok(check, fmt.Sprintf("%d URLs use https", len(urls)))
}

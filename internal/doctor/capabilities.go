package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sesame-cli/sesame/internal/dpop"
	"github.com/sesame-cli/sesame/internal/provider"
)

// checkPKCE looks for S256 in code_challenge_methods_supported (RFC 7636
// §4.2, RFC 8414 §2).
//
// An absent list is only a warning, on purpose. RFC 8414 §2 reads omission
// as "PKCE not supported", but many providers (Microsoft Entra ID among
// them) accept S256 without advertising it, and sesame sends S256 anyway
// (login only warns), so failing here would condemn working setups. A list
// without S256 is a failure: the provider has said what it accepts, and
// sesame never falls back to plain.
func checkPKCE(md *provider.Metadata) Item {
	const check = "pkce"
	methods := md.CodeChallengeMethodsSupported
	switch {
	case len(methods) == 0:
		return warn(check, "not advertised: sesame sends S256 anyway; many providers (e.g. Microsoft Entra) support it without saying so",
			"confirm the client requires PKCE at the provider")
	case slices.Contains(methods, "S256"):
		return ok(check, strings.Join(methods, ", "))
	default:
		return fail(check, "no S256 among "+strings.Join(methods, ", ")+"; sesame sends only S256",
			"enable PKCE with S256 for this client at the provider")
	}
}

// defaultGrants is what grant_types_supported means when absent (RFC 8414
// §2, OpenID Connect Discovery §3).
var defaultGrants = []string{"authorization_code", "implicit"}

const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

// checkGrants reports the grants sesame uses: the authorization code grant
// for login (RFC 6749 §4.1), refresh tokens (RFC 6749 §6) and the device
// grant (RFC 8628 §3.4).
func checkGrants(md *provider.Metadata) []Item {
	grants, list := md.GrantTypesSupported, strings.Join(md.GrantTypesSupported, ", ")
	if grants == nil {
		grants, list = defaultGrants, "not advertised, so the default: authorization_code, implicit (RFC 8414 §2)"
	}
	items := make([]Item, 0, 3)
	if slices.Contains(grants, "authorization_code") {
		items = append(items, ok("grant_types", list))
	} else {
		items = append(items, fail("grant_types", "no authorization_code among "+list,
			"enable the authorization code flow for this client at the provider"))
	}
	if slices.Contains(grants, "refresh_token") {
		items = append(items, ok("refresh_token", "advertised"))
	} else {
		items = append(items, warn("refresh_token", "not advertised: no silent refresh; a new login is needed whenever the access token expires",
			"enable refresh tokens for this client at the provider (often together with the offline_access scope)"))
	}
	if slices.Contains(grants, deviceGrant) {
		items = append(items, ok("device_code", "advertised"))
	} else {
		items = append(items, warn("device_code", "not advertised: no sesame login --device (RFC 8628)",
			"enable the device authorization grant at the provider if you log in from machines without a browser"))
	}
	return items
}

// checkResponseTypes looks for "code" (RFC 6749 §3.1.1). The field is
// required (RFC 8414 §2), but its absence alone does not stop a code flow,
// so only a list without "code" fails.
func checkResponseTypes(md *provider.Metadata) Item {
	const check = "response_types"
	types := md.ResponseTypesSupported
	switch {
	case len(types) == 0:
		return warn(check, "not advertised (RFC 8414 §2 requires it); sesame assumes code works",
			"if login fails at the authorization endpoint, enable the authorization code flow for this client")
	case slices.Contains(types, "code"):
		return ok(check, strings.Join(types, ", "))
	default:
		return fail(check, "no code among "+strings.Join(types, ", "),
			"enable the authorization code flow for this client at the provider")
	}
}

// checkAuthMethods matches token_endpoint_auth_methods_supported with how
// this profile authenticates at the token endpoint (RFC 6749 §2.3, OpenID
// Connect Core §9): a public client sends none (RFC 8252 §8.5: a native
// app cannot keep a secret), sesame-broker sends client_secret_basic or
// client_secret_post. Absent means client_secret_basic only.
func checkAuthMethods(md *provider.Metadata, clientID string, confidential bool) Item {
	const check = "token_endpoint_auth"
	methods, list := md.TokenEndpointAuthMethodsSupported, strings.Join(md.TokenEndpointAuthMethodsSupported, ", ")
	if len(methods) == 0 {
		methods, list = []string{"client_secret_basic"}, "not advertised, so the default client_secret_basic"
	}
	who := "public client"
	if confidential {
		who = "sesame-broker"
	}
	if clientID != "" {
		who += fmt.Sprintf(" (client %q)", clientID)
	}
	if !confidential {
		if slices.Contains(methods, "none") {
			return ok(check, who+" can use none (offered: "+list+")")
		}
		return warn(check, who+": none is not among "+list,
			"the provider may refuse a public client; register it as a public/native app, or use sesame-broker")
	}
	for _, m := range []string{"client_secret_basic", "client_secret_post"} {
		if slices.Contains(methods, m) {
			return ok(check, fmt.Sprintf("%s can use %s (offered: %s)", who, m, list))
		}
	}
	return fail(check, who+" needs client_secret_basic or client_secret_post; offered: "+list,
		"enable client_secret_basic or client_secret_post for this client at the provider")
}

// checkIssParameter reports RFC 9207 support. With it, each authorization
// response names its issuer and sesame refuses one from another provider
// (the mix-up attack, RFC 9207 §1); without it only state ties a response
// to a login.
func checkIssParameter(md *provider.Metadata) Item {
	const check = "iss_parameter"
	if md.IssParameterSupported {
		return ok(check, "advertised: sesame requires iss in every authorization response (RFC 9207)")
	}
	return warn(check, "not advertised: the RFC 9207 mix-up defence is unavailable",
		"nothing to change in sesame; enable the iss parameter at the provider if it offers it")
}

// checkScopes looks for the two scopes sesame asks for by default:
// openid, without which there is no ID token (OpenID Connect Core §3.1.2.1),
// and offline_access, which most OpenID providers want before they issue a
// refresh token (OpenID Connect Core §11). scopes_supported is optional and
// need not be complete, so gaps are warnings.
func checkScopes(md *provider.Metadata) Item {
	const check = "scopes"
	if md.ScopesSupported == nil {
		return warn(check, "not advertised: cannot tell whether openid and offline_access are available",
			"log in once; sesame status shows what was granted")
	}
	var missing []string
	if !slices.Contains(md.ScopesSupported, "openid") {
		missing = append(missing, "openid not advertised: no ID token, so sesame cannot verify who logged in")
	}
	if !slices.Contains(md.ScopesSupported, "offline_access") {
		missing = append(missing, "offline_access not advertised: refresh tokens may need a provider-specific setting, or not be issued")
	}
	if len(missing) > 0 {
		return warn(check, strings.Join(missing, "; "),
			"if logins lack an ID token or a refresh token, check the scopes enabled for this client")
	}
	return ok(check, fmt.Sprintf("openid and offline_access among %d scopes", len(md.ScopesSupported)))
}

// checkDPoP reads dpop_signing_alg_values_supported (RFC 9449 §5.1).
// Providers that bind tokens without advertising it exist, so an absent
// list is a warning even for a dpop profile: its login fails clearly if
// the provider answers with a bearer token.
func checkDPoP(md *provider.Metadata, want bool) Item {
	const check = "dpop"
	algs := md.DPoPSigningAlgValuesSupported
	usable := dpop.ChooseAlg(algs)
	switch {
	case len(algs) == 0 && want:
		return warn(check, "not advertised, but the profile uses DPoP: the login fails if the provider answers with a bearer token",
			"enable DPoP for this client at the provider, or set dpop: false")
	case len(algs) == 0:
		return ok(check, "not advertised: tokens are bearer tokens (sesame login --dpop needs DPoP, RFC 9449)")
	case usable == "" && want:
		return fail(check, "proofs accepted only with "+strings.Join(algs, ", ")+"; sesame signs with ES256 or EdDSA",
			"allow ES256 or EdDSA DPoP proofs at the provider, or set dpop: false")
	case usable == "":
		return warn(check, "proofs accepted only with "+strings.Join(algs, ", ")+"; sesame signs with ES256 or EdDSA", "")
	}
	return ok(check, strings.Join(algs, ", ")+"; sesame would sign with "+usable)
}

package login

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/sesame-cli/sesame/internal/loopback"
)

// fix says what to do about a refused authorization request, from the
// provider's error code and words (description or page text): the
// mistakes people make first are a client id the provider does not know
// and a redirect URI it does not accept, so those name exactly what to
// check or register.
func (o Options) fix(req request, code, words string, status int) string {
	lower := strings.ToLower(code + " " + words)
	client := fmt.Sprintf("client_id %q", o.ClientID)
	switch {
	case code == "invalid_redirect_uri" || code == "redirect_uri_mismatch" || strings.Contains(lower, "redirect"):
		return o.redirectFix(req)
	case code == "invalid_client" || (code == "" && mentionsUnknownClient(lower)):
		if o.PushURL != "" {
			return fmt.Sprintf("check %s at the provider and in sesame-broker's configuration (is it registered, for this issuer, with the broker's secret?)", client)
		}
		return fmt.Sprintf("check %s at the provider (is it registered, a native/public client, for this issuer?)", client)
	case code == "unauthorized_client":
		return fmt.Sprintf("check that %s may use the authorization code flow with PKCE at the provider (a native/public client, for this issuer)", client)
	case code == "invalid_scope":
		return fmt.Sprintf("check the scopes (--scope, scopes: in the profile) that %s may request: %s", client, strings.Join(req.scopes, " "))
	case code == "invalid_target":
		return fmt.Sprintf("check the resources (--resource, resources: in the profile) that %s may request", client)
	case code == "unsupported_response_type":
		return fmt.Sprintf("check that %s may use the authorization code flow (response_type code) at the provider", client)
	case code == "invalid_request":
		return fmt.Sprintf("check the extra parameters (--param, params: in the profile) and that %s may use the authorization code flow with PKCE S256", client)
	case status == http.StatusNotFound:
		return "check the authorization endpoint: the issuer, or auth_url in the profile"
	}
	return fmt.Sprintf("check %s and its redirect URI http://127.0.0.1/callback at the provider; `sesame doctor --client-id %s` checks both without a login", client, o.ClientID)
}

// mentionsUnknownClient recognises an error page about the client that
// has no OAuth error code: Keycloak's "Client not found.", Entra's
// "Application with identifier ... was not found".
func mentionsUnknownClient(lower string) bool {
	if !strings.Contains(lower, "client") && !strings.Contains(lower, "application") {
		return false
	}
	for _, s := range []string{"not found", "unknown", "invalid", "does not exist", "not registered", "not recognized"} {
		if strings.Contains(lower, s) {
			return true
		}
	}
	return false
}

// redirectFix names the redirect URI to register. With a pinned port it
// is exactly what sesame sent; without one, the loopback URI that
// providers following RFC 8252 §7.3 match with any port, and how to pin
// one for those that match exactly.
func (o Options) redirectFix(req request) string {
	broker := ""
	if o.PushURL != "" {
		broker = " (and allow it in sesame-broker's redirect_uris)"
	}
	anyPort := "http://127.0.0.1" + loopback.CallbackPath
	if o.Port != 0 {
		return fmt.Sprintf("register the redirect URI %s for client_id %q at the provider%s (or %s, where it accepts any loopback port, RFC 8252 §7.3)",
			req.redirectURI, o.ClientID, broker, anyPort)
	}
	return fmt.Sprintf("register the redirect URI %s for client_id %q at the provider%s (any port, RFC 8252 §7.3); "+
		"if it matches redirect URIs exactly, pin a port (--port 8765, or port: in the profile) and register http://127.0.0.1:8765%s",
		anyPort, o.ClientID, broker, loopback.CallbackPath)
}

package sessionbroker

import (
	"net/http"
	"slices"
)

// publicDocument is how long the public documents may be cached: a key
// added for rotation reaches APIs within this time.
const publicDocument = "public, max-age=300"

// metadata is the discovery document: OpenID Connect Discovery 1.0 §3 and
// RFC 8414 §2 names, and providers_endpoint, the CLI's list of upstreams.
func (h *Handler) metadata(w http.ResponseWriter, _ *http.Request) *apiError {
	iss := h.cfg.Issuer
	w.Header().Set("Cache-Control", publicDocument)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              iss + routeJWKS,
		"token_endpoint":                        iss + routeToken,
		"revocation_endpoint":                   iss + routeRevoke,
		"introspection_endpoint":                iss + routeIntrospect,
		"providers_endpoint":                    iss + routeProviders,
		"dpop_signing_alg_values_supported":     []string{"ES256", "EdDSA"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"token_endpoint_auth_methods_supported": []string{"none"},
	})
	return nil
}

// jwks is the session keys' public JWK Set (RFC 7517 §5).
func (h *Handler) jwks(w http.ResponseWriter, _ *http.Request) *apiError {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", publicDocument)
	_, _ = w.Write(h.cfg.Keys.JWKS())
	return nil
}

// providerJSON is one upstream as the CLI reads it (brokerclient).
type providerJSON struct {
	Name     string   `json:"name"`
	Issuer   string   `json:"issuer"`
	ClientID string   `json:"client_id"`
	Scopes   []string `json:"scopes"`
}

// providers lists the upstreams, in the configured order, and max_age:
// MaxAuthAge in whole seconds, which the CLI sends the upstream
// (OpenID Connect Core §3.1.2.1) so that the sign-in is recent enough.
func (h *Handler) providers(w http.ResponseWriter, _ *http.Request) *apiError {
	list := make([]providerJSON, 0, len(h.cfg.Upstreams))
	for _, u := range h.cfg.Upstreams {
		list = append(list, providerJSON{Name: u.Name, Issuer: u.Issuer, ClientID: u.ClientID, Scopes: slices.Clone(u.Scopes)})
	}
	w.Header().Set("Cache-Control", publicDocument)
	writeJSON(w, http.StatusOK, map[string]any{
		"providers": list,
		"max_age":   int64(h.cfg.MaxAuthAge.Seconds()),
	})
	return nil
}

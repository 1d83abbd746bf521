package session

import (
	"strings"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/provider"
)

// Endpoints is where a provider's endpoints are, as stored with a login.
type Endpoints = provider.Endpoints

// ProfileEndpoints returns the endpoints p names itself (from the file,
// SESAME_* variables or flags); they override discovery. This is the one
// place that maps a profile's keys to endpoints.
func ProfileEndpoints(p config.Profile) Endpoints {
	return Endpoints{
		Issuer: p.Issuer, Auth: p.AuthURL, Token: p.TokenURL, Userinfo: p.UserinfoURL,
		Revocation: p.RevocationURL, Introspection: p.IntrospectionURL,
		EndSession: p.EndSessionURL, JWKS: p.JWKSURL, Device: p.DeviceURL,
	}
}

// BrokerURL is path ("/token", "/revoke", "/introspect") on a
// sesame-broker, or "" without one. The broker's API mirrors the
// provider's, adding the client authentication the CLI never holds; every
// route to it is built here.
func BrokerURL(broker, path string) string {
	if broker == "" {
		return ""
	}
	return strings.TrimSuffix(broker, "/") + path
}

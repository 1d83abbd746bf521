package provider

import (
	"slices"
	"testing"
)

// Both discovery locations come from here, for Discover and for `sesame
// doctor`; RFC 8414 §3.1 puts the well-known segment before the path.
func TestDiscoveryURLs(t *testing.T) {
	tests := []struct {
		issuer, oidc, rfc8414 string
	}{
		{"https://idp.example", "https://idp.example/.well-known/openid-configuration", "https://idp.example/.well-known/oauth-authorization-server"},
		{"https://idp.example/", "https://idp.example/.well-known/openid-configuration", "https://idp.example/.well-known/oauth-authorization-server"},
		{"https://idp.example/tenant", "https://idp.example/tenant/.well-known/openid-configuration", "https://idp.example/.well-known/oauth-authorization-server/tenant"},
		{"https://idp.example/a/b/", "https://idp.example/a/b/.well-known/openid-configuration", "https://idp.example/.well-known/oauth-authorization-server/a/b"},
		{"http://127.0.0.1:8080/realms/x", "http://127.0.0.1:8080/realms/x/.well-known/openid-configuration", "http://127.0.0.1:8080/.well-known/oauth-authorization-server/realms/x"},
	}
	for _, tt := range tests {
		oidc, alt, err := DiscoveryURLs(tt.issuer)
		if err != nil || oidc != tt.oidc || alt != tt.rfc8414 {
			t.Errorf("DiscoveryURLs(%q) = %q, %q, %v; want %q, %q", tt.issuer, oidc, alt, err, tt.oidc, tt.rfc8414)
		}
	}
	for _, bad := range []string{"", "idp.example", "/tenant", "https://", "https://idp/%zz"} {
		if _, _, err := DiscoveryURLs(bad); err == nil {
			t.Errorf("DiscoveryURLs(%q): no error", bad)
		}
	}
}

// The accepted algorithms are asymmetric only, and each call gets its own
// slice, so no caller can change what the others accept.
func TestSigningAlgs(t *testing.T) {
	algs := SigningAlgs()
	for _, a := range []string{"none", "HS256", "HS384", "HS512", ""} {
		if slices.Contains(algs, a) || AcceptsAlg(a) {
			t.Errorf("%q is accepted", a)
		}
	}
	for _, a := range algs {
		if !AcceptsAlg(a) {
			t.Errorf("AcceptsAlg(%q) = false", a)
		}
	}
	algs[0] = "HS256"
	if AcceptsAlg("HS256") {
		t.Error("changing the returned slice changed the accepted algorithms")
	}
}

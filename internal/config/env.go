package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// applyEnv overrides profile fields from the environment, one variable per
// file key, so CI jobs and one-off runs need no config file:
//
//	SESAME_ISSUER             issuer
//	SESAME_CLIENT_ID          client_id
//	SESAME_SCOPES             scopes, separated by spaces and/or commas
//	SESAME_RESOURCES          resources, separated by spaces and/or commas
//	SESAME_PARAMS             params, as a query string: "login_hint=alice%40example.com&prompt=login"
//	SESAME_STORAGE            storage
//	SESAME_PORT               port
//	SESAME_BROKER             broker
//	SESAME_AUTH_URL           auth_url
//	SESAME_TOKEN_URL          token_url
//	SESAME_USERINFO_URL       userinfo_url
//	SESAME_REVOCATION_URL     revocation_url
//	SESAME_INTROSPECTION_URL  introspection_url
//	SESAME_END_SESSION_URL    end_session_url
//	SESAME_JWKS_URL           jwks_url
//	SESAME_DEVICE_URL         device_url
//
// A variable replaces the whole field, lists and params included, whichever
// profile is selected. An empty variable counts as unset, so the
// environment can override a field but not clear it.
//
// SESAME_PROFILE (see Config.ProfileName) and SESAME_CONFIG (see
// DefaultPath) choose the profile and the file rather than a field.
func applyEnv(p *Profile, getenv func(string) string) error {
	strs := []struct {
		name string
		dst  *string
	}{
		{"SESAME_ISSUER", &p.Issuer},
		{"SESAME_CLIENT_ID", &p.ClientID},
		{"SESAME_STORAGE", &p.Storage},
		{"SESAME_BROKER", &p.Broker},
		{"SESAME_AUTH_URL", &p.AuthURL},
		{"SESAME_TOKEN_URL", &p.TokenURL},
		{"SESAME_USERINFO_URL", &p.UserinfoURL},
		{"SESAME_REVOCATION_URL", &p.RevocationURL},
		{"SESAME_INTROSPECTION_URL", &p.IntrospectionURL},
		{"SESAME_END_SESSION_URL", &p.EndSessionURL},
		{"SESAME_JWKS_URL", &p.JWKSURL},
		{"SESAME_DEVICE_URL", &p.DeviceURL},
	}
	for _, s := range strs {
		if v := getenv(s.name); v != "" {
			*s.dst = v
		}
	}
	if v := getenv("SESAME_SCOPES"); v != "" {
		p.Scopes = splitList(v)
	}
	if v := getenv("SESAME_RESOURCES"); v != "" {
		p.Resources = splitList(v)
	}
	if v := getenv("SESAME_PORT"); v != "" {
		port, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("SESAME_PORT=%q is not a port number", v)
		}
		p.Port = port
	}
	if v := getenv("SESAME_PARAMS"); v != "" {
		params, err := parseParams(v)
		if err != nil {
			return fmt.Errorf("SESAME_PARAMS: %w", err)
		}
		p.Params = params
	}
	return nil
}

// splitList accepts both "openid profile" (the OAuth scope syntax) and
// "openid,profile" (what people type into CI settings).
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}

// parseParams reads a query string. Query syntax, unlike a separator list,
// can carry any value, spaces and commas included, by percent-encoding it.
func parseParams(s string) (map[string]string, error) {
	q, err := url.ParseQuery(s)
	if err != nil {
		return nil, fmt.Errorf("want key=value pairs joined by &: %w", err)
	}
	params := make(map[string]string, len(q))
	for k, vs := range q {
		if len(vs) > 1 {
			return nil, fmt.Errorf("%q is given more than once", k)
		}
		params[k] = vs[0]
	}
	return params, nil
}

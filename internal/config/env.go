package config

import (
	"fmt"
	"net/url"
	"reflect"
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
//	SESAME_PROVIDER           provider
//	SESAME_NO_PREFLIGHT       no_preflight
//	SESAME_DPOP               dpop
//	SESAME_API_URL            api_url
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
//
// The variables are derived from the Profile struct tags (envVar); a test
// checks that the list above names exactly those.
func applyEnv(p *Profile, getenv func(string) string) error {
	v := reflect.ValueOf(p).Elem()
	for f := range v.Type().Fields() {
		key := yamlKey(f)
		if key == "" {
			continue
		}
		name := envVar(key)
		s := getenv(name)
		if s == "" {
			continue
		}
		switch dst := v.FieldByIndex(f.Index).Addr().Interface().(type) {
		case *string:
			*dst = s
		case *[]string:
			*dst = SplitList(s)
		case *int:
			// Port is the one number a profile has.
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("%s=%q is not a port number", name, s)
			}
			*dst = n
		case *bool:
			b, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("%s=%q is not true or false", name, s)
			}
			*dst = b
		case *map[string]string:
			params, err := parseParams(s)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			*dst = params
		default:
			return fmt.Errorf("%s: sesame cannot read a %s from the environment", name, f.Type)
		}
	}
	return nil
}

// SplitList splits a list of scopes or resources, from a variable or a
// flag. It accepts both "openid profile" (the OAuth scope syntax) and
// "openid,profile" (what people type into CI settings): any comma or
// white space separates.
func SplitList(s string) []string {
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

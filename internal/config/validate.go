package config

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// ValidateName checks a profile name. Names end up in keychain entries,
// file names and shell commands, so they stay short and plain.
func ValidateName(name string) error {
	if name == "" {
		return errors.New("profile name is empty")
	}
	if utf8.RuneCountInString(name) > 64 {
		return fmt.Errorf("profile name %q is longer than 64 characters", name)
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("-_.@", r) {
			return fmt.Errorf("profile name %q: use only letters, digits, \"-\", \"_\", \".\" and \"@\"", name)
		}
	}
	return nil
}

// Validate checks the profile as it will be used, after file, environment
// and flags are layered. It reports every problem at once, each naming the
// profile and the file key to fix. It does not demand an issuer or client
// ID: which fields a command needs is the command's business.
func (p Profile) Validate() error {
	label := "profile"
	if p.Name != "" {
		label = fmt.Sprintf("profile %q", p.Name)
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %w", label, fmt.Errorf(format, args...)))
	}

	if p.Name != "" {
		if err := ValidateName(p.Name); err != nil {
			errs = append(errs, err)
		}
	}
	switch p.Storage {
	case "", StorageKeychain, StorageFile:
	default:
		bad("storage %q is not supported (use %q or %q)", p.Storage, StorageKeychain, StorageFile)
	}
	if p.Port < 0 || p.Port > 65535 {
		bad("port %d is out of range 0-65535 (0 picks a free port)", p.Port)
	}

	// Every URL setting (kind:"url", kind:"issuer") meets the one URL
	// policy; OpenID Connect Discovery 1.0 §3: the issuer has no query or
	// fragment either.
	for _, f := range urlFields() {
		if err := checkURL(reflect.ValueOf(p).FieldByIndex(f.Index).String(), f.Tag.Get("kind") == "issuer"); err != nil {
			bad("%s: %w", yamlKey(f), err)
		}
	}

	for _, s := range p.Scopes {
		if !validScope(s) {
			bad("scopes: %q is not a valid scope (no spaces, quotes or backslashes; RFC 6749 §3.3)", s)
		}
	}
	// RFC 8707 §2: a resource is an absolute URI without a fragment.
	for _, r := range p.Resources {
		if u, err := url.Parse(r); err != nil || !u.IsAbs() || u.Fragment != "" {
			bad("resources: %q is not an absolute URI without a fragment (RFC 8707 §2)", r)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(p.Params)) {
		if k == "" {
			bad("params: empty parameter name")
		}
		if IsReservedParam(k) {
			bad("params: %q is set by sesame itself and cannot be overridden", k)
		}
	}
	return errors.Join(errs...)
}

// IsReservedParam reports the authorization parameters the login flow sets
// itself (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID Connect Core §3.1.2.1,
// RFC 8707 §2, RFC 9449 §10). Extra parameters, from the profile's params or from
// --param, may not set them: that would silently turn off PKCE, state or
// nonce checking, break the redirect, or fight the scopes and resources
// keys.
func IsReservedParam(name string) bool {
	switch name {
	case "response_type", "client_id", "redirect_uri", "state", "nonce",
		"code_challenge", "code_challenge_method", "scope", "resource", "dpop_jkt":
		return true
	}
	return false
}

// checkURL accepts "" (unset) or an endpoint that passes the one URL policy
// (httpx.CheckEndpoint). An issuer has no query either (OpenID Connect
// Discovery 1.0 §3).
func checkURL(raw string, issuer bool) error {
	if raw == "" {
		return nil
	}
	if err := httpx.CheckEndpoint(raw); err != nil {
		if fix := schemeFix(raw); fix != "" {
			return fmt.Errorf("%w: did you mean %s?", err, fix)
		}
		return err
	}
	if u, _ := url.Parse(raw); issuer && (u.RawQuery != "" || u.ForceQuery) {
		return fmt.Errorf("%q must not have a query", raw)
	}
	return nil
}

// validScope applies the scope-token grammar of RFC 6749 §3.3:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// CheckIssuer applies the URL policy to an issuer given on its own (the
// argument of `sesame init`), with the same messages as Validate.
func CheckIssuer(raw string) error {
	if err := checkURL(raw, true); err != nil {
		return fmt.Errorf("issuer: %w", err)
	}
	return nil
}

// schemeFix suggests the URL that was probably meant: https:// in front
// of a bare host ("idp.example.com/oidc"), or in place of http:// for a
// host that is not on this machine, where sesame does not send tokens in
// the clear. It returns "" when there is nothing obvious to suggest.
func schemeFix(raw string) string {
	if rest, ok := strings.CutPrefix(raw, "http://"); ok {
		if u, err := url.Parse(raw); err == nil && u.Host != "" && !httpx.IsLoopback(u.Hostname()) {
			return "https://" + rest
		}
		return ""
	}
	if strings.Contains(raw, "://") || strings.HasPrefix(raw, "/") || strings.TrimSpace(raw) != raw {
		return ""
	}
	u, err := url.Parse("https://" + raw)
	if err != nil || u.Hostname() == "" || !strings.Contains(u.Hostname(), ".") && !httpx.IsLoopback(u.Hostname()) {
		return ""
	}
	if httpx.IsLoopback(u.Hostname()) {
		return "http://" + raw
	}
	return "https://" + raw
}

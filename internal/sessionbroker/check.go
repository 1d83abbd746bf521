package sessionbroker

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/sessions"
)

// Client authentication methods at an upstream (RFC 6749 §2.3.1).
const (
	authBasic = "client_secret_basic"
	authPost  = "client_secret_post"
)

// maxName bounds an upstream's name, which every session token carries.
const maxName = 64

// check reports every problem with cfg at once, defaults applied, and
// returns the issuer's path ("" for a bare origin).
func check(cfg Config) (string, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	prefix, err := checkIssuer(cfg.Issuer)
	if err != nil {
		errs = append(errs, err)
	}
	if err := sessions.CheckLifetime(cfg.Lifetime); err != nil {
		bad("sessions.lifetime: %w", err)
	}
	if cfg.MaxAuthAge < 0 || cfg.MaxAuthAge > MaxMaxAuthAge {
		bad("sessions.max_auth_age %s is out of bounds: it must be positive and at most %s", cfg.MaxAuthAge, MaxMaxAuthAge)
	}
	if cfg.Keys == nil {
		bad("sessions: no signing keys (signing_key_file)")
	}
	if cfg.Store == nil {
		bad("sessions: no store (memory, or a redis:// URL)")
	}
	if len(cfg.Upstreams) == 0 {
		bad("sessions: no provider to sign users in at; give each client a name")
	}
	seen := map[string]bool{}
	for i, u := range cfg.Upstreams {
		who := fmt.Sprintf("session provider %q", u.Name)
		switch {
		case u.Name == "":
			bad("session provider #%d (issuer %s) has no name", i+1, u.Issuer)
			who = fmt.Sprintf("session provider #%d", i+1)
		case !validName(u.Name):
			bad("%s: a name has 1 to %d letters, digits, '.', '_' or '-'", who, maxName)
		case seen[u.Name]:
			bad("%s is named twice: each provider needs its own name", who)
		}
		seen[u.Name] = true
		if u.Issuer == "" {
			bad("%s has no issuer: session mode finds the provider's endpoints by discovery", who)
		} else if err := httpx.CheckEndpoint(u.Issuer); err != nil {
			bad("%s: its issuer %w", who, err)
		}
		if u.ClientID == "" || u.ClientSecret == "" {
			bad("%s needs a client_id and a client secret: the broker redeems codes as its confidential client", who)
		}
		if u.AuthMethod != authBasic && u.AuthMethod != authPost {
			bad("%s: auth_method %q is not %s or %s", who, u.AuthMethod, authBasic, authPost)
		}
		if !slices.Contains(u.Scopes, "openid") {
			bad("%s: its scopes must include openid: a session starts only from a verified ID token", who)
		}
	}
	return prefix, errors.Join(errs...)
}

// checkIssuer applies the one URL policy to the broker's issuer, and
// what an issuer needs besides (OpenID Connect Discovery 1.0 §3): no
// query, fragment or user info; and no trailing slash, since routes are
// the issuer and a path, and tokens name the issuer exactly.
func checkIssuer(issuer string) (string, error) {
	if issuer == "" {
		return "", errors.New("sessions.issuer is required: the broker's public URL, such as https://broker.example.com")
	}
	if err := httpx.CheckEndpoint(issuer); err != nil {
		return "", fmt.Errorf("sessions.issuer: %w", err)
	}
	u, err := url.Parse(issuer)
	switch {
	case err != nil:
		return "", fmt.Errorf("sessions.issuer %q is not a URL", issuer)
	case u.RawQuery != "" || u.ForceQuery || u.User != nil:
		return "", fmt.Errorf("sessions.issuer %q must have no query and no user info", issuer)
	case strings.HasSuffix(u.Path, "/"):
		return "", fmt.Errorf("sessions.issuer %q ends with a slash: drop it (tokens name the issuer exactly, and every route is the issuer and a path)", issuer)
	case u.RawPath != "" || u.Path != "" && path.Clean(u.Path) != u.Path:
		return "", fmt.Errorf("sessions.issuer %q must have a plain path: no escapes, no . or .. segments", issuer)
	}
	return u.Path, nil
}

func validName(s string) bool {
	if s == "" || len(s) > maxName {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

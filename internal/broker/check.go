package broker

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// ConfigError is a setting that cannot work. Key names it as it appears in
// the configuration file (clients[1].auth_method) or as a flag
// (--client-id), so the message says what to fix.
type ConfigError struct {
	Key string
	Err error
}

func (e *ConfigError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// client is a validated Client, ready for requests.
type client struct {
	id, secret, authMethod string
	issuer                 string
	explicit               endpoints
	authCode, refresh      bool
	redirects              []redirectPattern
	basic                  string // the Authorization header value for client_secret_basic
}

// checker collects every problem at once, so one start shows them all.
type checker struct{ errs []error }

func (c *checker) bad(key string, format string, args ...any) {
	c.errs = append(c.errs, &ConfigError{Key: key, Err: fmt.Errorf(format, args...)})
}

func (c *checker) err() error { return errors.Join(c.errs...) }

// TopKey names a top-level setting in messages, with the sesame-broker
// flag that also sets it: "rate_limit (--rate-limit)".
func TopKey(key string) string { return key + " (--" + strings.ReplaceAll(key, "_", "-") + ")" }

// ClientKey names a setting of the client at index i in validation
// messages.
type ClientKey func(i int, key string) string

// FileKey names a client setting as the configuration file spells it:
// "clients[1].auth_method".
func FileKey(i int, key string) string { return fmt.Sprintf("clients[%d].%s", i, key) }

// Validate reports every problem with cfg at once, as New would, but
// naming client settings with keyOf: sesame-broker names the flags that
// set a client given on the command line.
func Validate(cfg Config, keyOf ClientKey) error {
	_, _, err := compile(cfg, keyOf)
	return err
}

// compile validates cfg. keyOf names a client's setting in messages.
func compile(cfg Config, keyOf ClientKey) ([]*client, []netip.Prefix, error) {
	var c checker
	checkAddr(&c, "listen", cfg.Listen, true)
	checkAddr(&c, "metrics_listen", cfg.MetricsListen, false)
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		c.bad(TopKey("tls_cert"), "tls_cert and tls_key must be set together")
	}
	if !slices.Contains([]string{"text", "json"}, cfg.LogFormat) {
		c.bad(TopKey("log_format"), "%q is not text or json", cfg.LogFormat)
	}
	if _, err := parseLevel(cfg.LogLevel); err != nil {
		c.bad(TopKey("log_level"), "%v", err)
	}
	if cfg.UpstreamTimeout < 100*time.Millisecond || cfg.UpstreamTimeout > 5*time.Minute {
		c.bad(TopKey("upstream_timeout"), "%v is not between 100ms and 5m (give a unit, as in 10s)", cfg.UpstreamTimeout)
	}
	if cfg.DiscoveryRefresh < 10*time.Second || cfg.DiscoveryRefresh > 24*time.Hour {
		c.bad(TopKey("discovery_refresh"), "%v is not between 10s and 24h (give a unit, as in 15m)", cfg.DiscoveryRefresh)
	}
	if cfg.RateLimit < 0 {
		c.bad(TopKey("rate_limit"), "%v is negative (0 disables rate limiting)", cfg.RateLimit)
	}
	if cfg.RateLimit > 0 && cfg.RateBurst < 1 {
		c.bad(TopKey("rate_burst"), "%d must be at least 1 when rate_limit is set", cfg.RateBurst)
	}
	proxies := make([]netip.Prefix, 0, len(cfg.TrustedProxies))
	for _, s := range cfg.TrustedProxies {
		p, err := parsePrefix(s)
		if err != nil {
			c.bad(TopKey("trusted_proxies"), "%q is not a CIDR or IP address", s)
			continue
		}
		proxies = append(proxies, p)
	}
	if len(cfg.Clients) == 0 {
		c.bad("clients", "no client is configured (use --config, or --client-id with --issuer or --token-url)")
	}
	clients := make([]*client, 0, len(cfg.Clients))
	seen := map[string]bool{}
	for i, cl := range cfg.Clients {
		key := func(k string) string { return keyOf(i, k) }
		if cl.ID != "" && seen[cl.ID] {
			c.bad(key("client_id"), "%q is configured twice; client IDs pick the client, so they must be unique", cl.ID)
		}
		seen[cl.ID] = true
		clients = append(clients, compileClient(&c, cl.withDefaults(), key))
	}
	return clients, proxies, c.err()
}

func compileClient(c *checker, cl Client, key func(string) string) *client {
	out := &client{id: cl.ID, secret: cl.Secret, authMethod: cl.AuthMethod, issuer: cl.Issuer}
	if cl.ID == "" {
		c.bad(key("client_id"), "required")
	}
	if strings.ContainsAny(cl.ID, "\x00\r\n") {
		c.bad(key("client_id"), "contains a control character")
	}
	switch {
	case cl.Secret == "" && cl.SecretFile == "" && cl.SecretEnv == "":
		c.bad(key("client_secret_file"), "no client secret: set client_secret_file or client_secret_env")
	case cl.Secret == "":
		c.bad(key("client_secret_file"), "the client secret is empty")
	}
	if cl.Issuer == "" && cl.TokenURL == "" {
		c.bad(key("issuer"), "set issuer, or token_url for a provider without discovery")
	}
	for _, u := range []struct{ key, val string }{
		{"issuer", cl.Issuer}, {"token_url", cl.TokenURL},
		{"revocation_url", cl.RevocationURL}, {"introspection_url", cl.IntrospectionURL},
	} {
		if err := checkUpstreamURL(u.val); err != nil {
			c.bad(key(u.key), "%v", err)
		}
	}
	out.explicit = endpoints{token: cl.TokenURL, revocation: cl.RevocationURL, introspection: cl.IntrospectionURL}
	switch cl.AuthMethod {
	case AuthClientSecretBasic:
		out.basic = basicAuth(cl.ID, cl.Secret)
	case AuthClientSecretPost:
	default:
		c.bad(key("auth_method"), "%q is not client_secret_basic or client_secret_post", cl.AuthMethod)
	}
	for _, g := range cl.GrantTypes {
		switch g {
		case GrantAuthorizationCode:
			out.authCode = true
		case GrantRefreshToken:
			out.refresh = true
		default:
			c.bad(key("grant_types"), "%q is not authorization_code or refresh_token", g)
		}
	}
	for _, raw := range cl.RedirectURIs {
		p, err := parseRedirectPattern(raw)
		if err != nil {
			c.bad(key("redirect_uris"), "%q: %v", raw, err)
			continue
		}
		out.redirects = append(out.redirects, p)
	}
	return out
}

// basicAuth is the client_secret_basic header value. RFC 6749 §2.3.1
// form-urlencodes both parts first, which providers that decode them
// (most) need for IDs and secrets with ":" or "%".
func basicAuth(id, secret string) string {
	creds := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(creds))
}

// checkUpstreamURL applies httpx.CheckEndpoint, the one rule for provider
// URLs (https, or http on a loopback host), to an optional setting or
// discovered endpoint: the client secret travels to it. The broker adds
// one rule of its own: no user information, since Go's client would send
// it as Basic credentials, beside or instead of the client's own, and it
// would show wherever the URL is logged.
func checkUpstreamURL(raw string) error {
	if raw == "" {
		return nil
	}
	if err := httpx.CheckEndpoint(raw); err != nil {
		return err
	}
	if u, _ := url.Parse(raw); u.User != nil {
		return fmt.Errorf("%q must not contain user information", raw)
	}
	return nil
}

func checkAddr(c *checker, key, addr string, required bool) {
	if addr == "" {
		if required {
			c.bad(TopKey(key), "required, as host:port")
		}
		return
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		c.bad(TopKey(key), "%q is not host:port", addr)
	}
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

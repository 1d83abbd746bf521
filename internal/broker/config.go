package broker

import (
	"time"
)

// Grant types a client may be allowed; the broker forwards no others.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// Client authentication methods at the provider (RFC 6749 §2.3.1).
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
)

// MaxBody is the largest request body the broker reads. Token, revocation
// and introspection requests are a few hundred bytes; the limit is fixed so
// that no configuration can turn the broker into a memory sink.
const MaxBody = 64 << 10

// DefaultRedirectURIs allow loopback redirects on any port and path, which
// is what a native app uses (RFC 8252 §7.3). "localhost" is left out on
// purpose: it can resolve to something else (RFC 8252 §8.3).
func DefaultRedirectURIs() []string {
	return []string{"http://127.0.0.1:*/*", "http://[::1]:*/*"}
}

// Config is the broker's whole configuration. Build one with Defaults and
// change what differs; New validates it.
type Config struct {
	// Listen is the host:port of the API (and, without MetricsListen, of
	// /metrics). Port 0 picks a free port.
	Listen string `mapstructure:"listen"`
	// MetricsListen, when set, serves /metrics there instead of on Listen,
	// so that an internet-facing listener need not expose it.
	MetricsListen string `mapstructure:"metrics_listen"`
	// TLSCert and TLSKey are PEM files; both or neither.
	TLSCert string `mapstructure:"tls_cert"`
	TLSKey  string `mapstructure:"tls_key"`
	// LogFormat is text or json; LogLevel debug, info, warn or error.
	LogFormat string `mapstructure:"log_format"`
	LogLevel  string `mapstructure:"log_level"`
	// UpstreamTimeout bounds every call to a provider.
	UpstreamTimeout time.Duration `mapstructure:"upstream_timeout"`
	// DiscoveryRefresh is how often discovery documents are fetched again.
	DiscoveryRefresh time.Duration `mapstructure:"discovery_refresh"`
	// RateLimit is the sustained requests per second allowed per client IP
	// (per /64 for IPv6), with bursts of RateBurst; 0 disables limiting.
	RateLimit float64 `mapstructure:"rate_limit"`
	RateBurst int     `mapstructure:"rate_burst"`
	// TrustedProxies are the CIDRs (or single addresses) of reverse proxies
	// whose X-Forwarded-For is believed when finding the client IP.
	TrustedProxies []string `mapstructure:"trusted_proxies"`
	// Clients are the confidential clients the broker authenticates as.
	Clients []Client `mapstructure:"clients"`
	// Sessions, when set, turns on session mode: the broker mints its own
	// session tokens after a sign-in at one of the clients' providers
	// (internal/sessionbroker), next to the pass-through exchange.
	Sessions *Sessions `mapstructure:"sessions"`
}

// Sessions configures session mode.
type Sessions struct {
	// Issuer is the iss of session tokens and the base URL of the session
	// endpoints, discovery and JWKS: the same on every replica.
	Issuer string `mapstructure:"issuer"`
	// SigningKeyFiles are EC P-256 PKCS#8 PEM files: the first signs, all
	// verify, so that keys can be rotated. One file may be given as a
	// string.
	SigningKeyFiles []string `mapstructure:"signing_key_file"`
	// Lifetime of a session token: 5m to 336h.
	Lifetime time.Duration `mapstructure:"lifetime"`
	// MaxAuthAge: a session is minted only when the upstream sign-in
	// (auth_time) is at most this old.
	MaxAuthAge time.Duration `mapstructure:"max_auth_age"`
	// Store is "memory" (one replica) or redis://HOST:PORT/DB, shared by
	// replicas: revocations and proof replay.
	Store string `mapstructure:"store"`
}

// Client is one confidential client at one provider.
type Client struct {
	// Name is what `sesame login --provider NAME` picks in session mode.
	Name string `mapstructure:"name"`
	// Scopes the CLI asks for in session mode (default openid profile
	// email offline_access).
	Scopes []string `mapstructure:"scopes"`
	ID     string   `mapstructure:"client_id"`
	// Issuer is found by discovery; TokenURL, RevocationURL and
	// IntrospectionURL override what it publishes, or stand alone for a
	// plain OAuth 2.0 provider (TokenURL is then required).
	Issuer           string `mapstructure:"issuer"`
	TokenURL         string `mapstructure:"token_url"`
	RevocationURL    string `mapstructure:"revocation_url"`
	IntrospectionURL string `mapstructure:"introspection_url"`
	// SecretFile or SecretEnv (the name of an environment variable) holds
	// the client secret; loading the configuration reads it into Secret.
	SecretFile string `mapstructure:"client_secret_file"`
	SecretEnv  string `mapstructure:"client_secret_env"`
	// Secret is the client secret itself. Programs that build a Config
	// in memory (tests) set it directly.
	Secret string `mapstructure:"-" json:"-"`
	// AuthMethod is client_secret_basic (default) or client_secret_post.
	AuthMethod string `mapstructure:"auth_method"`
	// GrantTypes default to authorization_code and refresh_token.
	GrantTypes []string `mapstructure:"grant_types"`
	// RedirectURIs are the patterns an authorization_code request's
	// redirect_uri must match (see the package documentation); default
	// DefaultRedirectURIs().
	RedirectURIs []string `mapstructure:"redirect_uris"`
}

// Defaults returns the configuration every setting starts from.
func Defaults() Config {
	return Config{
		Listen:           "127.0.0.1:8787",
		LogFormat:        "text",
		LogLevel:         "info",
		UpstreamTimeout:  10 * time.Second,
		DiscoveryRefresh: 15 * time.Minute,
		RateLimit:        10,
		RateBurst:        20,
	}
}

// withDefaults fills a client's optional settings.
func (c Client) withDefaults() Client {
	if c.AuthMethod == "" {
		c.AuthMethod = AuthClientSecretBasic
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	if len(c.RedirectURIs) == 0 {
		c.RedirectURIs = DefaultRedirectURIs()
	}
	return c
}

package brokercmd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/broker"
)

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// load runs the command line through flag parsing, Load and validation,
// as sesame-broker does before it listens.
func load(t *testing.T, args []string, getenv func(string) string) (broker.Config, error) {
	t.Helper()
	o := &options{getenv: getenv}
	var cfg broker.Config
	cmd := newCommand(o, func(cmd *cobra.Command) error {
		c, keyOf, err := loadConfig(o.configPath, cmd.Flags(), o.client, o.getenv)
		if err != nil {
			return err
		}
		cfg = c
		return broker.Validate(c, keyOf)
	})
	cmd.SetArgs(args)
	cmd.SetOut(&strings.Builder{})
	cmd.SetErr(&strings.Builder{})
	return cfg, cmd.Execute()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadExample loads the documented example configuration, which
// stays beside the Config it describes (the README links it there).
func TestLoadExample(t *testing.T) {
	example, err := os.ReadFile("../broker/testdata/broker.yaml")
	if err != nil {
		t.Fatal(err)
	}
	secretFile := writeFile(t, "secret", "logto-secret\n")
	path := writeFile(t, "broker.yaml", strings.ReplaceAll(string(example), "/run/secrets/logto-client-secret", secretFile))
	cfg, err := load(t, []string{"--config", path}, envOf("GITHUB_CLIENT_SECRET", "gh-secret"))
	if err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
	if cfg.LogFormat != "json" || cfg.UpstreamTimeout != 10*time.Second || cfg.DiscoveryRefresh != 15*time.Minute ||
		cfg.RateLimit != 10 || cfg.RateBurst != 20 || !slices.Equal(cfg.TrustedProxies, []string{"10.0.0.0/8"}) {
		t.Errorf("top-level settings: %+v", cfg)
	}
	if len(cfg.Clients) != 2 {
		t.Fatalf("%d clients, want 2", len(cfg.Clients))
	}
	logto, gh := cfg.Clients[0], cfg.Clients[1]
	if logto.ID != "sesame-cli" || logto.Secret != "logto-secret" || logto.Issuer != "https://tenant.logto.app/oidc" ||
		!slices.Equal(logto.GrantTypes, []string{broker.GrantAuthorizationCode, broker.GrantRefreshToken}) {
		t.Errorf("first client: %+v", logto)
	}
	if gh.Secret != "gh-secret" || gh.AuthMethod != broker.AuthClientSecretPost || gh.TokenURL == "" ||
		!slices.Equal(gh.RedirectURIs, []string{"http://127.0.0.1:*/callback"}) {
		t.Errorf("second client: %+v", gh)
	}
}

// TestPrecedence: flags over environment over file over defaults.
func TestPrecedence(t *testing.T) {
	path := writeFile(t, "b.yaml", "rate_limit: 5\nrate_burst: 7\nlisten: 127.0.0.1:1\nclients:\n  - client_id: a\n    issuer: https://idp.example\n    client_secret_env: S\n")
	env := envOf("S", "x", "SESAME_BROKER_RATE_LIMIT", "6", "SESAME_BROKER_LISTEN", "127.0.0.1:2",
		"SESAME_BROKER_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.0.0/16")
	cfg, err := load(t, []string{"--config", path, "--rate-limit", "9"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RateLimit != 9 || cfg.RateBurst != 7 || cfg.Listen != "127.0.0.1:2" || cfg.UpstreamTimeout != 10*time.Second ||
		len(cfg.TrustedProxies) != 2 {
		t.Errorf("got rate_limit %v, rate_burst %d, listen %s, upstream_timeout %v, trusted_proxies %q",
			cfg.RateLimit, cfg.RateBurst, cfg.Listen, cfg.UpstreamTimeout, cfg.TrustedProxies)
	}
}

// TestConfigErrorsNameTheKey: every validation message names what to fix.
func TestConfigErrorsNameTheKey(t *testing.T) {
	client := "clients:\n  - client_id: a\n    issuer: https://idp.example\n    client_secret_env: S\n"
	tests := []struct{ name, yaml, want string }{
		{"unknown top-level key", "lisen: x\n" + client, "lisen: unknown key"},
		{"unknown client key", client + "    client_secert_file: x\n", "clients[0].client_secert_file: unknown key"},
		{"max_body", "max_body: 1MB\n" + client, "max_body: fixed at 64 KiB"},
		{"no clients", "listen: 127.0.0.1:1\n", "clients: no client"},
		{"clients not a list", "clients: a\n", "clients: must be a list"},
		{"bad listen", "listen: nope\n" + client, "listen (--listen)"},
		{"tls half", "tls_cert: c.pem\n" + client, "tls_cert (--tls-cert)"},
		{"log format", "log_format: xml\n" + client, "log_format (--log-format)"},
		{"log level", "log_level: loud\n" + client, "log_level (--log-level)"},
		{"timeout without unit", "upstream_timeout: 10\n" + client, "upstream_timeout (--upstream-timeout): 10ns"},
		{"timeout wrong type", "upstream_timeout: soon\n" + client, "upstream_timeout (--upstream-timeout): wrong type"},
		{"discovery refresh", "discovery_refresh: 1s\n" + client, "discovery_refresh (--discovery-refresh)"},
		{"negative rate", "rate_limit: -1\n" + client, "rate_limit (--rate-limit)"},
		{"zero burst", "rate_burst: 0\n" + client, "rate_burst (--rate-burst)"},
		{"bad proxy", "trusted_proxies: [10.0.0.0/33]\n" + client, "trusted_proxies (--trusted-proxies)"},
		{"no client_id", "clients:\n  - issuer: https://idp.example\n    client_secret_env: S\n", "clients[0].client_id: required"},
		{"duplicate client_id", client + "  - client_id: a\n    issuer: https://idp.example\n    client_secret_env: S\n", "clients[1].client_id"},
		{"no endpoints", "clients:\n  - client_id: a\n    client_secret_env: S\n", "clients[0].issuer"},
		{"http issuer", "clients:\n  - client_id: a\n    issuer: http://idp.example\n    client_secret_env: S\n", "clients[0].issuer"},
		{"bad token_url", client + "    token_url: ftp://x\n", "clients[0].token_url"},
		{"http revocation_url", client + "    revocation_url: http://idp.example/revoke\n", "clients[0].revocation_url"},
		{"user information in token_url", client + "    token_url: https://u:p@idp.example/token\n", "clients[0].token_url: \"https://u:p@idp.example/token\" must not contain user information"},
		{"bad auth_method", client + "    auth_method: private_key_jwt\n", "clients[0].auth_method"},
		{"bad grant type", client + "    grant_types: [password]\n", "clients[0].grant_types"},
		{"remote http redirect", client + "    redirect_uris: ['http://app.example:*/*']\n", "clients[0].redirect_uris"},
		{"wildcard host", client + "    redirect_uris: ['https://*.example/cb']\n", "clients[0].redirect_uris"},
		{"no secret", "clients:\n  - client_id: a\n    issuer: https://idp.example\n", "clients[0].client_secret_file: no client secret"},
		{"both secrets", client + "    client_secret_file: /x\n", "clients[0].client_secret_file: set only one"},
		{"unset secret env", "clients:\n  - client_id: a\n    issuer: https://idp.example\n    client_secret_env: UNSET\n", "clients[0].client_secret_env"},
		{"missing secret file", "clients:\n  - client_id: a\n    issuer: https://idp.example\n    client_secret_file: /nonexistent/s\n", "clients[0].client_secret_file"},
		{"not YAML", "clients: [\n", "cannot read the configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "broker.yaml", tt.yaml)
			_, err := load(t, []string{"--config", path}, envOf("S", "secret"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestFlagErrorsNameTheFlag(t *testing.T) {
	secret := envOf(SecretEnv, "s")
	tests := []struct {
		name string
		args []string
		env  func(string) string
		want string
	}{
		{"nothing", nil, secret, "--config"},
		{"no client id", []string{"--issuer", "https://idp.example"}, secret, "--client-id: required"},
		{"no issuer", []string{"--client-id", "a"}, secret, "--issuer"},
		{"bad auth method", []string{"--client-id", "a", "--issuer", "https://idp.example", "--auth-method", "x"}, secret, "--auth-method"},
		{"bad redirect", []string{"--client-id", "a", "--issuer", "https://idp.example", "--redirect-uri", "http://evil.example/*"}, secret, "--redirect-uri"},
		{"bad grant", []string{"--client-id", "a", "--issuer", "https://idp.example", "--grant-type", "implicit"}, secret, "--grant-type"},
		{"no secret", []string{"--client-id", "a", "--issuer", "https://idp.example"}, envOf(), "--client-secret-file or " + SecretEnv},
		{"two secrets", []string{"--client-id", "a", "--issuer", "https://idp.example", "--client-secret-file", "/x"}, secret, "both are set"},
		{"client flags with --config", []string{"--config", "x.yaml", "--client-id", "a"}, secret, "--client-id: cannot be combined with --config"},
		{"bad rate", []string{"--client-id", "a", "--issuer", "https://idp.example", "--rate-limit", "-2"}, secret, "rate_limit (--rate-limit)"},
		{"bad env", []string{"--client-id", "a", "--issuer", "https://idp.example"}, envOf(SecretEnv, "s", "SESAME_BROKER_LOG_FORMAT", "xml"), "log_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.args, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSecretSources(t *testing.T) {
	cfg, err := load(t, []string{"--client-id", "a", "--issuer", "https://idp.example"}, envOf(SecretEnv, "from-env"))
	if err != nil || cfg.Clients[0].Secret != "from-env" {
		t.Errorf("env: secret %q, err %v", cfg.Clients[0].Secret, err)
	}
	file := writeFile(t, "secret", "  from-file\r\n")
	cfg, err = load(t, []string{"--client-id", "a", "--issuer", "https://idp.example", "--client-secret-file", file}, envOf())
	if err != nil || cfg.Clients[0].Secret != "from-file" {
		t.Errorf("file: secret %q, err %v", cfg.Clients[0].Secret, err)
	}
	empty := writeFile(t, "empty", "\n")
	if _, err := load(t, []string{"--client-id", "a", "--issuer", "https://idp.example", "--client-secret-file", empty}, envOf()); err == nil {
		t.Error("an empty secret file was accepted")
	}
}

// TestNoSecretFlag: the secret cannot be given on the command line, where
// ps would show it.
func TestNoSecretFlag(t *testing.T) {
	for _, args := range [][]string{
		{"--client-id", "a", "--issuer", "https://idp.example", "--client-secret", "s"},
		{"--client-id", "a", "--issuer", "https://idp.example", "--client-secret=s"},
	} {
		var stdout, stderr strings.Builder
		code := Main(t.Context(), args, &stdout, &stderr, envOf())
		if code != ExitConfig || !strings.Contains(stderr.String(), "there is no --client-secret flag") {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr.String())
		}
	}
	if f := newCommand(&options{}, nil).Flags().Lookup("client-secret"); f != nil {
		t.Error("a --client-secret flag exists")
	}
}

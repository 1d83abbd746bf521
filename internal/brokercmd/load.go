package brokercmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/sesame-cli/sesame/internal/broker"
)

// SecretEnv is the environment variable that holds the client secret of a
// client given by flags. There is deliberately no flag for the secret: a
// command line is visible to every user of the host (ps, /proc).
const SecretEnv = "SESAME_BROKER_CLIENT_SECRET"

// envPrefix prefixes the environment variables that override top-level
// settings: SESAME_BROKER_LISTEN, SESAME_BROKER_RATE_LIMIT, ...
const envPrefix = "SESAME_BROKER_"

// topLevelKeys are the settings that the file, the environment and flags
// (the key with "-" for "_") can all set, in that order of precedence.
func topLevelKeys() []string {
	return []string{"listen", "metrics_listen", "tls_cert", "tls_key", "log_format", "log_level",
		"upstream_timeout", "discovery_refresh", "rate_limit", "rate_burst", "trusted_proxies"}
}

// clientFlags describe the single client of a broker run without a file.
type clientFlags struct {
	Issuer, ClientID, AuthMethod              string
	TokenURL, RevocationURL, IntrospectionURL string
	SecretFile                                string
	RedirectURIs, GrantTypes                  []string
}

func (f clientFlags) set() []string {
	var names []string
	for _, p := range []struct{ name, val string }{
		{"--issuer", f.Issuer}, {"--client-id", f.ClientID}, {"--auth-method", f.AuthMethod},
		{"--token-url", f.TokenURL}, {"--revocation-url", f.RevocationURL},
		{"--introspection-url", f.IntrospectionURL}, {"--client-secret-file", f.SecretFile},
	} {
		if p.val != "" {
			names = append(names, p.name)
		}
	}
	if len(f.RedirectURIs) > 0 {
		names = append(names, "--redirect-uri")
	}
	if len(f.GrantTypes) > 0 {
		names = append(names, "--grant-type")
	}
	return names
}

// flagKey names a client setting by the flag that sets it.
func flagKey(_ int, key string) string {
	switch key {
	case "client_secret_file":
		return "--client-secret-file or " + SecretEnv
	case "grant_types":
		return "--grant-type"
	case "redirect_uris":
		return "--redirect-uri"
	}
	return "--" + strings.ReplaceAll(key, "_", "-")
}

// loadConfig layers defaults, the configuration file (when path is set),
// the SESAME_BROKER_* environment and the changed flags of fs, and reads
// the client secrets. The returned function names client settings in
// validation messages: as file keys, or as the flags that set them.
func loadConfig(path string, fs *pflag.FlagSet, cf clientFlags, getenv func(string) string) (broker.Config, broker.ClientKey, error) {
	v := viper.New()
	d := broker.Defaults()
	for _, kv := range []struct {
		key string
		val any
	}{{"listen", d.Listen}, {"log_format", d.LogFormat}, {"log_level", d.LogLevel},
		{"upstream_timeout", d.UpstreamTimeout}, {"discovery_refresh", d.DiscoveryRefresh},
		{"rate_limit", d.RateLimit}, {"rate_burst", d.RateBurst}} {
		v.SetDefault(kv.key, kv.val)
	}
	if path != "" {
		if given := cf.set(); len(given) > 0 {
			return broker.Config{}, nil, &broker.ConfigError{Key: strings.Join(given, ", "),
				Err: errors.New("cannot be combined with --config; define the clients in the file")}
		}
		if err := readFile(v, path); err != nil {
			return broker.Config{}, nil, err
		}
	}
	for _, key := range topLevelKeys() {
		flag := fs.Lookup(strings.ReplaceAll(key, "_", "-"))
		switch env := getenv(envPrefix + strings.ToUpper(key)); {
		case flag != nil && flag.Changed:
			v.Set(key, flagValue(flag))
		case env != "":
			v.Set(key, env)
		}
	}
	var cfg broker.Config
	if err := v.UnmarshalExact(&cfg); err != nil {
		return broker.Config{}, nil, decodeError(err)
	}
	if path != "" {
		return cfg, broker.FileKey, readFileSecrets(cfg.Clients, getenv)
	}
	if cf.ClientID == "" && cf.Issuer == "" && cf.TokenURL == "" {
		return broker.Config{}, nil, &broker.ConfigError{Key: "--config", Err: errors.New("nothing to serve: give --config FILE, or --client-id with --issuer (see --help)")}
	}
	c := broker.Client{ID: cf.ClientID, Issuer: cf.Issuer, AuthMethod: cf.AuthMethod, TokenURL: cf.TokenURL,
		RevocationURL: cf.RevocationURL, IntrospectionURL: cf.IntrospectionURL, SecretFile: cf.SecretFile,
		RedirectURIs: cf.RedirectURIs, GrantTypes: cf.GrantTypes}
	env := getenv(SecretEnv)
	switch {
	case env != "" && c.SecretFile != "":
		return broker.Config{}, nil, &broker.ConfigError{Key: flagKey(0, "client_secret_file"), Err: errors.New("both are set; use one")}
	case env != "":
		c.Secret = env
	case c.SecretFile != "":
		s, err := readSecretFile(c.SecretFile)
		if err != nil {
			return broker.Config{}, nil, &broker.ConfigError{Key: "--client-secret-file", Err: err}
		}
		c.Secret = s
	default:
		return broker.Config{}, nil, &broker.ConfigError{Key: flagKey(0, "client_secret_file"),
			Err: errors.New("no client secret: put it in the environment variable or a file (there is no flag for the secret itself: it would show in ps)")}
	}
	cfg.Clients = []broker.Client{c}
	return cfg, flagKey, nil
}

func readFile(v *viper.Viper, path string) error {
	v.SetConfigFile(path)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json", ".toml", ".yaml", ".yml":
	default:
		v.SetConfigType("yaml")
	}
	if err := v.ReadInConfig(); err != nil {
		return &broker.ConfigError{Key: path, Err: fmt.Errorf("cannot read the configuration: %w", err)}
	}
	return unknownKeys(v.AllSettings())
}

func flagValue(f *pflag.Flag) any {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		return sv.GetSlice()
	}
	return f.Value.String()
}

// readFileSecrets fills each client's Secret from its file or variable.
func readFileSecrets(clients []broker.Client, getenv func(string) string) error {
	var c problems
	for i := range clients {
		cl := &clients[i]
		switch {
		case cl.SecretFile != "" && cl.SecretEnv != "":
			c.bad(broker.FileKey(i, "client_secret_file"), "set only one of client_secret_file and client_secret_env")
		case cl.SecretFile != "":
			s, err := readSecretFile(cl.SecretFile)
			if err != nil {
				c.bad(broker.FileKey(i, "client_secret_file"), "%v", err)
			}
			cl.Secret = s
		case cl.SecretEnv != "":
			if cl.Secret = getenv(cl.SecretEnv); cl.Secret == "" {
				c.bad(broker.FileKey(i, "client_secret_env"), "the environment variable %s is not set or empty", cl.SecretEnv)
			}
		}
	}
	return c.err()
}

// readSecretFile reads a secret, without the trailing newline editors and
// secret mounts add.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the client secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

// decodeError names the key a value of the wrong type was given for.
func decodeError(err error) error {
	var de *mapstructure.DecodeError
	if errors.As(err, &de) {
		key := de.Name()
		if slices.Contains(topLevelKeys(), key) {
			key = broker.TopKey(key)
		}
		return &broker.ConfigError{Key: key, Err: fmt.Errorf("wrong type: %w", de.Unwrap())}
	}
	return &broker.ConfigError{Key: "settings", Err: err}
}

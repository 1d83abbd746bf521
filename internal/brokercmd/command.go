package brokercmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/broker"
	"github.com/sesame-cli/sesame/internal/version"
)

// Exit codes of sesame-broker.
const (
	ExitOK     = 0 // clean shutdown (SIGTERM, SIGINT)
	ExitError  = 1 // runtime failure: cannot listen, serving failed
	ExitConfig = 2 // bad configuration or usage
)

const exitCodesHelp = `Exit codes:
  0  clean shutdown after SIGTERM or SIGINT
  1  runtime error (cannot listen, serving failed)
  2  bad configuration or usage`

// usageError is a mistake on the command line.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// options are the command line of sesame-broker.
type options struct {
	configPath string
	check      bool
	// revokeSubject ends every session of a subject (session mode).
	revokeSubject string
	client        clientFlags
	stdout        io.Writer
	stderr        io.Writer
	getenv        func(string) string
}

// Main runs sesame-broker with args until ctx ends and returns the exit
// code. Logs go to stdout, which is the server's data; usage, start-up
// errors and loud warnings go to stderr.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	o := &options{stdout: stdout, stderr: stderr, getenv: getenv}
	cmd := newCommand(o, func(cmd *cobra.Command) error { return run(cmd, o) })
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	return exitCode(cmd.ExecuteContext(ctx), stderr)
}

// NewCommand returns the sesame-broker command tree with default options
// and an empty environment, for generating man pages and shell
// completions; Main is what runs the broker.
func NewCommand() *cobra.Command {
	o := &options{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	return newCommand(o, func(cmd *cobra.Command) error { return run(cmd, o) })
}

func newCommand(o *options, runF func(*cobra.Command) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sesame-broker",
		Short: "Token exchange for sesame as a confidential OAuth client",
		Long: `sesame-broker holds the client secret that the sesame CLI must never have. The
CLI does the browser login with PKCE itself and sends the authorization code,
and later refresh tokens, to the broker's POST /token; the broker adds the
client authentication and forwards to the provider. POST /revoke and
POST /introspect are forwarded the same way. GET /healthz, /readyz and
/metrics are for operators.

One client by flags, with its secret in ` + SecretEnv + ` or a file;
several clients and providers with --config (YAML; see the package
documentation for every key). Top-level settings also come from
SESAME_BROKER_<KEY> variables (SESAME_BROKER_LISTEN, SESAME_BROKER_RATE_LIMIT,
...); flags win over the environment, which wins over the file.`,
		Example: `  SESAME_BROKER_CLIENT_SECRET=... sesame-broker --issuer https://tenant.logto.app/oidc --client-id abc123
  sesame-broker --config /etc/sesame/broker.yaml --listen :8443 --tls-cert cert.pem --tls-key key.pem`,
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version.Get().String(),
		RunE:          func(cmd *cobra.Command, _ []string) error { return runF(cmd) },
	}
	cmd.SetUsageTemplate(cmd.UsageTemplate() + "\n" + exitCodesHelp + "\n")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		if strings.Contains(err.Error(), "--client-secret") && !strings.Contains(err.Error(), "--client-secret-file") {
			err = fmt.Errorf("%w: there is no --client-secret flag, as a secret on the command line shows in ps; set %s or use --client-secret-file", err, SecretEnv)
		}
		return &usageError{err}
	})
	d := broker.Defaults()
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&o.configPath, "config", "", "YAML file with the clients and settings")
	fl.BoolVar(&o.check, "check", false, "validate the configuration and secrets, then exit without serving")
	fl.StringVar(&o.revokeSubject, "revoke-subject", "", "session mode: revoke every session of this subject (sub) issued until now in the shared store, then exit")
	fl.StringVar(&o.client.Issuer, "issuer", "", "the provider's issuer URL (discovery finds the endpoints)")
	fl.StringVar(&o.client.ClientID, "client-id", "", "the confidential client's ID")
	fl.StringVar(&o.client.SecretFile, "client-secret-file", "", "file holding the client secret (or set "+SecretEnv+")")
	fl.StringVar(&o.client.AuthMethod, "auth-method", "", "client_secret_basic (default) or client_secret_post")
	fl.StringVar(&o.client.TokenURL, "token-url", "", "token endpoint, for providers without discovery or to override it")
	fl.StringVar(&o.client.RevocationURL, "revocation-url", "", "revocation endpoint (RFC 7009)")
	fl.StringVar(&o.client.IntrospectionURL, "introspection-url", "", "introspection endpoint (RFC 7662)")
	fl.StringSliceVar(&o.client.RedirectURIs, "redirect-uri", nil, "allowed redirect_uri pattern, repeatable (default loopback on any port)")
	fl.StringSliceVar(&o.client.GrantTypes, "grant-type", nil, "allowed grant type, repeatable (default authorization_code and refresh_token)")
	fl.String("listen", d.Listen, "host:port to serve on")
	fl.String("metrics-listen", "", "serve /metrics on this host:port instead of --listen")
	fl.String("tls-cert", "", "TLS certificate (PEM); without it the broker serves plain HTTP")
	fl.String("tls-key", "", "TLS private key (PEM)")
	fl.String("log-format", d.LogFormat, "text or json")
	fl.String("log-level", d.LogLevel, "debug, info, warn or error")
	fl.Duration("upstream-timeout", d.UpstreamTimeout, "limit on every call to a provider")
	fl.Duration("discovery-refresh", d.DiscoveryRefresh, "how often discovery documents are fetched again")
	fl.Float64("rate-limit", d.RateLimit, "requests per second per client IP; 0 disables")
	fl.Int("rate-burst", d.RateBurst, "burst allowed above --rate-limit")
	fl.StringSlice("trusted-proxies", nil, "CIDRs of proxies whose X-Forwarded-For is believed")
	return cmd
}

func run(cmd *cobra.Command, o *options) error {
	cfg, keyOf, err := loadConfig(o.configPath, cmd.Flags(), o.client, o.getenv)
	if err != nil {
		return err
	}
	// Validate everything before the logger is built from two of the
	// settings, so that every problem is reported at once.
	if err := broker.Validate(cfg, keyOf); err != nil {
		return err
	}
	ctx := cmd.Context()
	if o.revokeSubject != "" {
		return revokeSubject(ctx, cfg, o.revokeSubject, o.stderr)
	}
	if o.check {
		mode := ""
		if cfg.Sessions != nil {
			parts, err := openSessions(ctx, cfg.Sessions, o.stderr)
			if err != nil {
				return err
			}
			parts.store.Close()
			mode = ", session mode (keys, lifetime and store checked)"
		}
		fmt.Fprintf(o.stderr, "configuration OK: %d client(s)%s\n", len(cfg.Clients), mode)
		return nil
	}
	log, err := broker.NewLogger(o.stdout, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return &broker.ConfigError{Key: broker.TopKey("log_format"), Err: err}
	}
	sh, prefix, closeSessions, err := sessionsHandler(ctx, cfg, log, o.stderr)
	if err != nil {
		return err
	}
	defer closeSessions()
	b, err := broker.New(cfg, broker.Options{Logger: log, Stderr: o.stderr, Sessions: sh, SessionsPrefix: prefix})
	if err != nil {
		return err
	}
	srv, err := b.Start(cmd.Context())
	if err != nil {
		return err
	}
	return srv.Run(cmd.Context())
}

// exitCode maps an error to the exit code and prints it: the only place
// that does either.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var ce *broker.ConfigError
	var ue *usageError
	switch {
	case errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown flag") || strings.HasPrefix(err.Error(), "unknown command"):
		fmt.Fprintf(stderr, "sesame-broker: %v\nRun 'sesame-broker --help' for usage.\n", err)
		return ExitConfig
	case errors.As(err, &ce):
		fmt.Fprintln(stderr, "sesame-broker: invalid configuration:")
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(stderr, "  "+line)
		}
		return ExitConfig
	default:
		fmt.Fprintf(stderr, "sesame-broker: %v\n", err)
		return ExitError
	}
}

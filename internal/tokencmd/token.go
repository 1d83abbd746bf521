// Package tokencmd holds the commands that hand a token to a script:
// token, org-token and exec. They share one path (the stored login,
// refreshed under the lock when due) and link nothing of the interactive
// login: no loopback listener, no browser page templates.
package tokencmd

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/cmdutil"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/session"
)

// TokenOptions are the inputs of `sesame token` and `sesame org-token`.
type TokenOptions struct {
	F        *cmdutil.Factory
	MinTTL   time.Duration
	Format   string
	JSON     bool
	IDToken  bool
	Resource string
	Org      string
	EnvName  string
	// ExactMinTTL: --min-ttl was given, so it is not capped at half the
	// token's lifetime.
	ExactMinTTL bool
}

// NewCmdToken builds `sesame token`.
func NewCmdToken(f *cmdutil.Factory, runF func(context.Context, *TokenOptions) error) *cobra.Command {
	o := &TokenOptions{F: f}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a valid access token for scripts, refreshing it if needed",
		Long: `Print the profile's access token and a newline on stdout, and nothing else.
When the token is expired or expires within --min-ttl, it is refreshed first and
the new tokens (including the rotated refresh token) are stored. Many sesame
processes asking at once cause one refresh; the others wait and print its token.

--resource gets a token for that API (RFC 8707), cached per resource.
--format kubectl prints an ExecCredential, so sesame works as a kubectl
credential plugin. Exits 4 when a new login is needed.`,
		Example: `  curl -H "Authorization: Bearer $(sesame token)" https://api.example.com/me
  sesame token --resource https://api.example.com --format json
  eval "$(sesame token --format env)"
  # kubeconfig user: exec: {apiVersion: client.authentication.k8s.io/v1, command: sesame,
  #   args: [token, --format, kubectl, --id-token], interactiveMode: Never}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.ExactMinTTL = cmd.Flags().Changed("min-ttl")
			if err := o.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return tokenRun(cmd.Context(), o)
		},
	}
	addTokenFlags(cmd, o)
	cmd.Flags().BoolVar(&o.IDToken, "id-token", false, "print the ID token instead of the access token")
	cmd.Flags().StringVar(&o.Resource, "resource", "", "RFC 8707 resource: a token for this API")
	return cmd
}

func addTokenFlags(cmd *cobra.Command, o *TokenOptions) {
	fl := cmd.Flags()
	fl.DurationVar(&o.MinTTL, "min-ttl", 60*time.Second, "refresh when the token expires within this time (by default at most half the token's lifetime)")
	fl.StringVar(&o.Format, "format", FormatRaw, "output: "+strings.Join(formats, ", "))
	fl.BoolVar(&o.JSON, "json", false, "same as --format json")
	fl.StringVar(&o.EnvName, "env-name", "", "variable name for --format env (default SESAME_ACCESS_TOKEN, or SESAME_ID_TOKEN)")
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(formats, cobra.ShellCompDirectiveNoFileComp))
}

// validate checks the flags together, before anything runs: a usage
// mistake exits 2 whatever the run function is.
func (o *TokenOptions) validate() error {
	if o.JSON {
		o.Format = FormatJSON
	}
	if o.Format == "" { // sesame exec has no --format
		o.Format = FormatRaw
	}
	if !slices.Contains(formats, o.Format) {
		return cmdutil.FlagErrorf("unknown --format %q (want %s)", o.Format, strings.Join(formats, ", "))
	}
	if o.IDToken && (o.Resource != "" || o.Org != "") {
		return cmdutil.FlagErrorf("--id-token cannot be combined with --resource or an organization")
	}
	if o.MinTTL < 0 {
		return cmdutil.FlagErrorf("--min-ttl %s is negative", o.MinTTL)
	}
	return nil
}

func tokenRun(ctx context.Context, o *TokenOptions) error {
	_, p, err := o.F.Profile()
	if err != nil {
		return err
	}
	t, err := fetch(ctx, o.F, p, o)
	if err != nil {
		return err
	}
	name := o.EnvName
	if name == "" {
		name = map[string]string{"access_token": "SESAME_ACCESS_TOKEN", "id_token": "SESAME_ID_TOKEN"}[t.Kind]
	}
	return printToken(o.F.Stdout, o.Format, name, t)
}

// fetch gets the token o asks for, fresh for at least o.MinTTL.
func fetch(ctx context.Context, f *cmdutil.Factory, p config.Profile, o *TokenOptions) (issued, error) {
	sess := f.Session(p)
	sess.ExactMinTTL = o.ExactMinTTL
	target := session.Target{Resource: o.Resource, Org: o.Org}
	switch {
	case o.IDToken:
		t, err := sess.FreshID(ctx, o.MinTTL)
		if err != nil {
			return issued{}, err
		}
		return issued{Token: t.IDToken, Kind: "id_token", Expiry: t.Identity.Expiry}, nil
	case target.IsBase():
		t, err := sess.Fresh(ctx, o.MinTTL, false)
		if err != nil {
			return issued{}, err
		}
		return issued{Token: t.AccessToken, Kind: "access_token", TokenType: t.TokenType, Expiry: t.Expiry, Scope: t.Scope}, nil
	default:
		d, err := sess.FreshFor(ctx, target, o.MinTTL, false)
		if err != nil {
			return issued{}, err
		}
		return issued{Token: d.AccessToken, Kind: "access_token", TokenType: d.TokenType, Expiry: d.Expiry, Scope: d.Scope}, nil
	}
}

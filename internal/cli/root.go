package cli

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/cmdutil"
	"github.com/sesame-cli/sesame/internal/tokencmd"
	"github.com/sesame-cli/sesame/internal/version"
)

// Main runs sesame with args and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	f := NewFactory(stdin, stdout, stderr, getenv)
	return Run(ctx, f, args)
}

// Run executes the command tree with a given factory (tests use fakes).
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetIn(f.Stdin)
	root.SetOut(f.Stdout) // asked-for help and completion scripts are the command's data
	root.SetErr(f.Stderr)
	err := root.ExecuteContext(ctx)
	return exitCode(err, f.Stderr)
}

// NewRootCmd builds the command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "sesame",
		Short: "OAuth 2.0 and OpenID Connect login from the terminal",
		Long: `sesame signs you in to an OAuth 2.0 / OpenID Connect provider from the terminal
(loopback redirect, PKCE, the system browser), keeps the tokens in the OS
keychain, and prints fresh access tokens for scripts.`,
		Example: `  sesame login --issuer https://tenant.logto.app/oidc --client-id abc123
  curl -H "Authorization: Bearer $(sesame token)" https://api.example.com/me
  sesame status`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version.Get().String(),
	}
	root.SetVersionTemplate("sesame {{.Version}}\n")
	root.SetUsageTemplate(root.UsageTemplate() + "\n" + exitCodesHelp + "\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &FlagError{Err: err} })
	root.PersistentFlags().StringVar(&f.ConfigPath, "config", "", "config file (default $XDG_CONFIG_HOME/sesame/config.yaml)")
	root.PersistentFlags().StringVarP(&f.ProfileFlag, "profile", "p", "", "profile to use (default $SESAME_PROFILE, the config's current, or \"default\")")
	root.PersistentFlags().BoolVar(&f.Verbose, "verbose", false, "log requests, keychain access and timings on stderr (secrets redacted)")
	root.PersistentPreRun = func(*cobra.Command, []string) {
		if f.Verbose || f.Getenv("SESAME_VERBOSE") == "1" {
			f.EnableVerbose()
		}
	}
	root.AddCommand(
		NewCmdLogin(f, nil),
		tokencmd.NewCmdToken(f, nil),
		NewCmdStatus(f, nil),
		NewCmdLogout(f, nil),
		NewCmdRefresh(f, nil),
		tokencmd.NewCmdOrgToken(f, nil),
		NewCmdRevoke(f, nil),
		tokencmd.NewCmdExec(f, nil),
		NewCmdUserinfo(f, nil),
		NewCmdIntrospect(f, nil),
		NewCmdDoctor(f, nil),
		NewCmdClaims(f, nil),
		NewCmdVersion(f, nil),
		NewCmdProfile(f),
		NewCmdInit(f, nil),
	)
	root.RegisterFlagCompletionFunc("profile", cmdutil.CompleteProfiles(f))
	usageArgs(root)
	return root
}

// usageArgs makes wrong positional arguments a usage error (exit 2), like
// wrong flags; cobra's own validators return plain errors.
func usageArgs(c *cobra.Command) {
	if args := c.Args; args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return &FlagError{Err: err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

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
	cmd, err := root.ExecuteContextC(ctx)
	return exitCode(err, cmd, f.Stderr)
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
		tokencmd.NewCmdProof(f, nil),
		NewCmdAPI(f, nil),
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
// wrong flags; cobra's own validators return plain errors, in words
// ("accepts 1 arg(s), received 0") that name neither the command nor the
// argument.
func usageArgs(c *cobra.Command) {
	if args := c.Args; args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return &FlagError{Err: argsError(cmd, a, err)}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

// argsError says what cmd takes and what it got, from its Use line:
// "sesame init needs ISSUER", "sesame status takes no arguments, got
// \"x\"". A command with subcommands keeps cobra's "unknown command".
func argsError(cmd *cobra.Command, got []string, err error) error {
	msg := err.Error()
	if cmd.HasAvailableSubCommands() || !strings.HasPrefix(msg, "unknown command") && !strings.Contains(msg, "arg(s)") {
		return err
	}
	want := strings.TrimSpace(strings.Replace(strings.TrimPrefix(cmd.Use, cmd.Name()), "[flags]", "", 1))
	quoted := make([]string, len(got))
	for i, a := range got {
		quoted[i] = strconv.Quote(a)
	}
	name := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
	switch {
	case want == "":
		return fmt.Errorf("%s takes no arguments, got %s", name, strings.Join(quoted, " "))
	case tooFew(msg, len(got)):
		return fmt.Errorf("%s needs %s", name, want)
	}
	return fmt.Errorf("%s takes %s, got %d arguments: %s", name, want, len(got), strings.Join(quoted, " "))
}

// tooFew reads cobra's message: "requires at least N", or "accepts N" (or
// "accepts between N and M") with fewer than N received.
func tooFew(msg string, got int) bool {
	if strings.HasPrefix(msg, "requires at least") {
		return true
	}
	if strings.HasPrefix(msg, "accepts at most") {
		return false
	}
	var n int
	if _, err := fmt.Sscanf(strings.TrimPrefix(msg, "accepts between"), "%d", &n); err == nil {
		return got < n
	}
	_, err := fmt.Sscanf(msg, "accepts %d", &n)
	return err == nil && got < n
}

package tokencmd

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/child"
	"github.com/sesame-cli/sesame/internal/cmdutil"
)

// ExecOptions are the inputs of `sesame exec`.
type ExecOptions struct {
	Token TokenOptions
	Args  []string
}

// NewCmdExec builds `sesame exec -- COMMAND [ARGS...]`.
func NewCmdExec(f *cmdutil.Factory, runF func(context.Context, *ExecOptions) error) *cobra.Command {
	o := &ExecOptions{Token: TokenOptions{F: f}}
	cmd := &cobra.Command{
		Use:   "exec [flags] -- COMMAND [ARGS...]",
		Short: "Run a command with a fresh access token in its environment",
		Long: `Run COMMAND with a fresh access token in the environment variable
SESAME_ACCESS_TOKEN (--env-name to change it), so the token never appears in
a command line. INT, TERM, HUP and QUIT sent to sesame are passed on to
COMMAND (a Ctrl-C in the terminal reaches it once), so sesame also works as
a container's PID 1. sesame exits with COMMAND's exit code, or 128+N when
COMMAND dies of signal N.`,
		Example: `  sesame exec -- sh -c 'curl -H "Authorization: Bearer $SESAME_ACCESS_TOKEN" https://api.example.com/me'
  sesame exec --resource https://api.example.com --env-name API_TOKEN -- ./deploy.sh`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Token.ExactMinTTL = cmd.Flags().Changed("min-ttl")
			o.Args = args
			if o.Token.EnvName == "" || strings.ContainsAny(o.Token.EnvName, "=\x00") {
				return cmdutil.FlagErrorf("--env-name %q is not a variable name", o.Token.EnvName)
			}
			if err := o.Token.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return execRun(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Token.EnvName, "env-name", "SESAME_ACCESS_TOKEN", "environment variable that receives the token")
	fl.StringVar(&o.Token.Resource, "resource", "", "RFC 8707 resource: a token for this API")
	fl.StringVar(&o.Token.Org, "org", "", "Logto organization id: an organization token")
	cmd.RegisterFlagCompletionFunc("org", cmdutil.CompleteOrgs(f))
	fl.DurationVar(&o.Token.MinTTL, "min-ttl", 5*time.Minute, "refresh first when the token expires within this time")
	return cmd
}

func execRun(ctx context.Context, o *ExecOptions) error {
	f := o.Token.F
	_, p, err := f.Profile()
	if err != nil {
		return err
	}
	t, err := fetch(ctx, f, p, &o.Token)
	if err != nil {
		return err
	}
	// Not tied to ctx: cmd/sesame cancels it on SIGINT and SIGTERM, and
	// sesame must then keep waiting while the child, told by the signal
	// relay or the terminal, finishes.
	c := exec.Command(o.Args[0], o.Args[1:]...)
	// sesame's own streams, not Factory.Stderr's sanitiser: exec.Cmd hands
	// an *os.File to the child as is, so the child keeps its terminal
	// (isatty, colour, job control) and its output never passes through
	// sesame. Anything else (the tests' buffers) is copied through a pipe.
	c.Stdin, c.Stdout, c.Stderr = f.Stdin, f.Stdout, f.RawStderr()
	// The token travels in the environment only, never in argv, which any
	// local user can read.
	c.Env = append(f.Environ(), o.Token.EnvName+"="+t.Token)
	code, err := child.Run(c)
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return &cmdutil.CodeError{Code: 127, Err: fmt.Errorf("%s: command not found", o.Args[0])}
	case err != nil:
		return fmt.Errorf("run %s: %w", o.Args[0], err)
	case code != 0:
		return &cmdutil.SilentError{Code: code}
	}
	return nil
}

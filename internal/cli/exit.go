package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/cmdutil"
	"github.com/sesame-cli/sesame/internal/session"
)

// The exit codes, and the errors that carry them, live in cmdutil; these
// names keep the command files short.
const (
	ExitOK            = cmdutil.ExitOK
	ExitError         = cmdutil.ExitError
	ExitUsage         = cmdutil.ExitUsage
	ExitNotRevoked    = cmdutil.ExitNotRevoked
	ExitLoginRequired = cmdutil.ExitLoginRequired
	ExitInterrupted   = cmdutil.ExitInterrupted
)

type (
	Factory     = cmdutil.Factory
	FlagError   = cmdutil.FlagError
	SilentError = cmdutil.SilentError
	CodeError   = cmdutil.CodeError
)

var flagErrorf = cmdutil.FlagErrorf

// NewFactory returns the production wiring.
func NewFactory(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *Factory {
	return cmdutil.NewFactory(stdin, stdout, stderr, getenv)
}

const exitCodesHelp = `Exit codes:
  0    success
  1    error (network, provider, keychain, configuration)
  2    usage error (unknown command or flag, bad flag value)
  3    logged out here, but the provider did not revoke the grant
  4    login required (not logged in, or the provider refused the refresh token)
  130  interrupted`

// hinter is an error that knows what to do about it: its Hint is printed
// on the line after the error. The wording stays with the error's type,
// where the error is made.
type hinter interface{ Hint() string }

// exitCode maps an error to an exit code and prints it: the only place
// that does either. cmd is the command that failed (nil for none): usage
// errors point to its --help.
func exitCode(err error, cmd *cobra.Command, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var silent *SilentError
	if errors.As(err, &silent) {
		return silent.Code
	}
	if !errors.Is(err, context.Canceled) {
		defer printHint(err, stderr)
	}
	var coded *CodeError
	if errors.As(err, &coded) {
		fmt.Fprintf(stderr, "sesame: %v\n", err)
		return coded.Code
	}
	var lr *session.LoginRequiredError
	var fe *FlagError
	switch {
	case errors.As(err, &lr):
		fmt.Fprintf(stderr, "sesame: %v\n", err)
		return ExitLoginRequired
	case errors.As(err, &fe) || strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag"):
		path := "sesame"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(stderr, "sesame: %v\nRun '%s --help' for usage.\n", err, path)
		return ExitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "sesame: interrupted")
		return ExitInterrupted
	default:
		fmt.Fprintf(stderr, "sesame: %v\n", err)
		return ExitError
	}
}

func printHint(err error, stderr io.Writer) {
	var h hinter
	if errors.As(err, &h) {
		if hint := h.Hint(); hint != "" {
			fmt.Fprintln(stderr, hint)
		}
	}
}

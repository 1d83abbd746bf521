package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sesame-cli/sesame/internal/cmdutil"
	"github.com/sesame-cli/sesame/internal/session"
)

// The exit codes, and the errors that carry them, live in cmdutil; these
// names keep the command files short.
const (
	ExitOK            = cmdutil.ExitOK
	ExitError         = cmdutil.ExitError
	ExitUsage         = cmdutil.ExitUsage
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
  4    login required (not logged in, or the provider refused the refresh token)
  130  interrupted`

// exitCode maps an error to an exit code and prints it: the only place
// that does either.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var silent *SilentError
	if errors.As(err, &silent) {
		return silent.Code
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
		fmt.Fprintf(stderr, "sesame: %v\nRun 'sesame --help' for usage.\n", err)
		return ExitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "sesame: interrupted")
		return ExitInterrupted
	default:
		fmt.Fprintf(stderr, "sesame: %v\n", err)
		return ExitError
	}
}

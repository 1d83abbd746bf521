package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sesame-cli/sesame/internal/session"
)

// Exit codes are part of the interface scripts rely on; README.md and
// `sesame --help` document them.
const (
	ExitOK            = 0
	ExitError         = 1
	ExitUsage         = 2
	ExitLoginRequired = 4
	ExitInterrupted   = 130
)

const exitCodesHelp = `Exit codes:
  0    success
  1    error (network, provider, keychain, configuration)
  2    usage error (unknown command or flag, bad flag value)
  4    login required (not logged in, or the provider refused the refresh token)
  130  interrupted`

// FlagError is a usage mistake; it exits 2 and points to --help.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

func flagErrorf(format string, a ...any) error { return &FlagError{Err: fmt.Errorf(format, a...)} }

// SilentError exits non-zero after the command has said everything itself.
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit %d", e.Code) }

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

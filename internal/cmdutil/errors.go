package cmdutil

import "fmt"

// Exit codes are part of the interface scripts rely on; README.md and
// `sesame --help` document them.
const (
	ExitOK            = 0
	ExitError         = 1
	ExitUsage         = 2
	ExitNotRevoked    = 3 // logout removed the tokens here; the provider did not revoke the grant
	ExitLoginRequired = 4
	ExitInterrupted   = 130
)

// FlagError is a usage mistake; it exits 2 and points to --help.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf is a usage mistake described with fmt.Errorf.
func FlagErrorf(format string, a ...any) error {
	return &FlagError{Err: fmt.Errorf(format, a...)}
}

// SilentError exits non-zero after the command has said everything itself
// (or, for sesame exec, passes on its child's status).
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit %d", e.Code) }

// CodeError is a failure with an exit code of its own: the command's
// verdict (a token that is not valid, not active) or the shell's 127 for a
// command not found. Like every error, it is printed in one place, as the
// "sesame: " line.
type CodeError struct {
	Code int
	Err  error
}

func (e *CodeError) Error() string { return e.Err.Error() }
func (e *CodeError) Unwrap() error { return e.Err }

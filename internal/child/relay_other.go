//go:build !unix

package child

import "os"

// On Windows a console's Ctrl-C reaches every process attached to it, the
// child included, and there are no other signals to relay: cmd/sesame's
// handler keeps sesame alive while the child decides what to do.
type relay struct{}

func newRelay() *relay           { return &relay{} }
func (*relay) start(*os.Process) {}
func (*relay) stop()             {}

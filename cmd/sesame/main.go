// Command sesame signs in to OAuth 2.0 / OpenID Connect providers from the
// terminal and hands tokens to scripts.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sesame-cli/sesame/internal/cli"
	"github.com/sesame-cli/sesame/internal/tokencmd"
)

func main() {
	// The plain `sesame token` with a valid cached token, which scripts run
	// on every request, answers before the command tree and the signal
	// handling exist; anything else falls through to the full command.
	if handled, code := tokencmd.Fast(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv); handled {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

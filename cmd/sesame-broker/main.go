// Command sesame-broker is the token-exchange backend of sesame: it holds a
// confidential client's secret and adds client authentication to the token,
// revocation and introspection requests the CLI sends it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sesame-cli/sesame/internal/brokercmd"
)

func main() {
	// SIGTERM (orchestrators) and SIGINT end the context; the broker then
	// drains in-flight requests before exiting 0.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := brokercmd.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

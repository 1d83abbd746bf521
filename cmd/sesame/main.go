// Command sesame signs in to OAuth 2.0 / OpenID Connect providers from the
// terminal and hands tokens to scripts.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sesame-cli/sesame/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

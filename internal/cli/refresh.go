package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// RefreshOptions are the inputs of `sesame refresh`.
type RefreshOptions struct {
	F *Factory
}

// NewCmdRefresh builds `sesame refresh`.
func NewCmdRefresh(f *Factory, runF func(context.Context, *RefreshOptions) error) *cobra.Command {
	o := &RefreshOptions{F: f}
	return &cobra.Command{
		Use:   "refresh",
		Short: "Refresh the tokens now, whatever their expiry",
		Long: `Use the refresh token now and store what the provider returns (the new access
token, the rotated refresh token, a new ID token if it sends one).
Exits 4 when the provider no longer accepts the refresh token.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return refreshRun(cmd.Context(), o)
		},
	}
}

func refreshRun(ctx context.Context, o *RefreshOptions) error {
	f := o.F
	_, p, err := f.Profile()
	if err != nil {
		return err
	}
	t, err := f.Session(p).Fresh(ctx, 0, true)
	if err != nil {
		return err
	}
	until := "no expiry given"
	if !t.Expiry.IsZero() {
		until = "valid until " + t.Expiry.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(f.Stderr, "Refreshed profile %q: access token %s.\n", p.Name, until)
	return nil
}

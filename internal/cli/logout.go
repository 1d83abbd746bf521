package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// LogoutOptions are the inputs of `sesame logout`.
type LogoutOptions struct {
	F *Factory
}

// NewCmdLogout builds `sesame logout`.
func NewCmdLogout(f *Factory, runF func(context.Context, *LogoutOptions) error) *cobra.Command {
	o := &LogoutOptions{F: f}
	return &cobra.Command{
		Use:   "logout",
		Short: "Remove the profile's stored tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return logoutRun(cmd.Context(), o)
		},
	}
}

func logoutRun(_ context.Context, o *LogoutOptions) error {
	f := o.F
	_, p, err := f.Profile()
	if err != nil {
		return err
	}
	if err := f.Session(p).Delete(); err != nil {
		return err
	}
	fmt.Fprintf(f.Stderr, "Logged out of profile %q: its tokens are removed from this machine.\n", p.Name)
	return nil
}

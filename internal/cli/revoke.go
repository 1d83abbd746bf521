package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// RevokeOptions are the inputs of `sesame revoke`.
type RevokeOptions struct {
	F           *Factory
	AccessToken bool
}

// NewCmdRevoke builds `sesame revoke`.
func NewCmdRevoke(f *Factory, runF func(context.Context, *RevokeOptions) error) *cobra.Command {
	o := &RevokeOptions{F: f}
	cmd := &cobra.Command{
		Use:   "revoke",
		Short: "Revoke the refresh token at the provider (RFC 7009) and remove the tokens",
		Long: `Revoke the profile's refresh token at the provider's revocation endpoint
(through the broker when the profile has one), which ends the grant, then
remove the tokens here. With --access-token only the access token is
revoked; the next use tries a refresh, which fails (exit 4, log in again)
where the provider ends the whole grant with its access token, as some do.
If the provider refuses or cannot be reached, nothing changes here and
sesame exits 1 (sesame logout removes the tokens whatever the provider says).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return revokeRun(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.AccessToken, "access-token", false, "revoke only the access token")
	return cmd
}

func revokeRun(ctx context.Context, o *RevokeOptions) error {
	f := o.F
	_, p, err := f.Profile()
	if err != nil {
		return err
	}
	if err := f.Session(p).Revoke(ctx, o.AccessToken); err != nil {
		return err
	}
	if o.AccessToken {
		fmt.Fprintf(f.Stderr, "Revoked the access token of profile %q. The next use tries a refresh; if the provider ended the whole grant with it, as some do, log in again.\n", p.Name)
	} else {
		fmt.Fprintf(f.Stderr, "Revoked the grant of profile %q and removed its tokens; run `sesame login` to sign in again.\n", p.Name)
	}
	return nil
}

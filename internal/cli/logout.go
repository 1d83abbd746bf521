package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/session"
)

// LogoutOptions are the inputs of `sesame logout`.
type LogoutOptions struct {
	F          *Factory
	NoRevoke   bool
	EndSession bool
}

// NewCmdLogout builds `sesame logout`.
func NewCmdLogout(f *Factory, runF func(context.Context, *LogoutOptions) error) *cobra.Command {
	o := &LogoutOptions{F: f}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Revoke the login at the provider and remove its tokens here",
		Long: `Revoke the refresh token at the provider (RFC 7009), which ends the grant, and
remove the profile's tokens, including resource and organization tokens.
If the provider cannot be reached the tokens stay; --no-revoke removes them
without asking the provider. --end-session also opens the provider's
end_session_endpoint to sign out of the browser session.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return logoutRun(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.NoRevoke, "no-revoke", false, "only remove the local tokens; the grant stays valid at the provider")
	cmd.Flags().BoolVar(&o.EndSession, "end-session", false, "also sign out of the provider's browser session (OpenID Connect RP-initiated logout)")
	return cmd
}

func logoutRun(ctx context.Context, o *LogoutOptions) error {
	f := o.F
	_, p, err := f.Profile()
	if err != nil {
		return err
	}
	sess := f.Session(p)
	if o.EndSession {
		// The end-session URL goes to the browser: refuse a bad one before
		// anything changes, so that the user can choose what to do.
		if t, err := sess.Load(); err == nil && t.Endpoints.EndSession != "" {
			if _, err := session.EndSessionURL(t); err != nil {
				return fmt.Errorf("%w; nothing was changed: run `sesame logout` without --end-session, and sign out of the provider in the browser yourself", err)
			}
		}
	}
	t, err := sess.Logout(ctx, !o.NoRevoke)
	if err != nil {
		if !o.NoRevoke {
			return fmt.Errorf("%w\nthe tokens are kept; retry, or use --no-revoke to remove them without revoking", err)
		}
		return err
	}
	what := "its tokens are removed from this machine"
	if !o.NoRevoke && t != nil {
		what = "the grant is revoked at the provider and " + what
	}
	fmt.Fprintf(f.Stderr, "Logged out of profile %q: %s.\n", p.Name, what)
	if !o.EndSession {
		return nil
	}
	u, err := session.EndSessionURL(t)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.Stderr, "Open this URL to sign out of the provider:\n\n  %s\n\n", u)
	if err := f.Browser.Open(u); err != nil {
		fmt.Fprintf(f.Stderr, "Could not open a browser (%v); open the URL above yourself.\n", err)
	}
	return nil
}

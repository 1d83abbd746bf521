package cli

import (
	"context"
	"errors"
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
The tokens are removed in every case. When the provider cannot be reached or
refuses to revoke, sesame says so and exits 3: the grant may then stay active
at the provider until it expires. A login the provider already ended is
removed without asking it again. --no-revoke removes the tokens without
asking the provider. --end-session also opens the provider's
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
	var nr *session.NotRevokedError
	switch {
	case errors.As(err, &nr):
		// The one line: the tokens are gone here, the grant maybe not there.
		err = &CodeError{Code: ExitNotRevoked, Err: fmt.Errorf("removed the tokens of profile %q from this machine, but %w", p.Name, nr)}
	case err != nil:
		return err
	default:
		what := "its tokens are removed from this machine"
		if !o.NoRevoke && t != nil {
			what = "the grant is revoked at the provider and " + what
		}
		fmt.Fprintf(f.Stderr, "Logged out of profile %q: %s.\n", p.Name, what)
	}
	if !o.EndSession {
		return err
	}
	u, uerr := session.EndSessionURL(t)
	if uerr != nil {
		return errors.Join(err, uerr)
	}
	fmt.Fprintf(f.Stderr, "Open this URL to sign out of the provider:\n\n  %s\n\n", u)
	if oerr := f.Browser.Open(u); oerr != nil {
		fmt.Fprintf(f.Stderr, "Could not open a browser (%v); open the URL above yourself.\n", oerr)
	}
	return err
}

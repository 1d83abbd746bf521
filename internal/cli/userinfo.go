package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

// UserinfoOptions are the inputs of `sesame userinfo`.
type UserinfoOptions struct {
	F *Factory
}

// NewCmdUserinfo builds `sesame userinfo`.
func NewCmdUserinfo(f *Factory, runF func(context.Context, *UserinfoOptions) error) *cobra.Command {
	o := &UserinfoOptions{F: f}
	return &cobra.Command{
		Use:   "userinfo",
		Short: "Print the provider's userinfo response for the current login",
		Long: `Call the provider's userinfo endpoint with the access token and print the
JSON response. When the provider refuses the token (HTTP 401, or 403 with
error="invalid_token"), sesame refreshes once and tries again. The endpoint
is the profile's userinfo_url (SESAME_USERINFO_URL, --userinfo-url at login)
when set, even after the login, else the one found at login.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return userinfoRun(cmd.Context(), o)
		},
	}
}

func userinfoRun(ctx context.Context, o *UserinfoOptions) error {
	f := o.F
	_, p, err := f.Profile()
	if err != nil {
		return err
	}
	resp, err := f.Session(p).Userinfo(ctx)
	if err != nil {
		return err
	}
	if resp.Signed {
		_, err = fmt.Fprintf(f.Stdout, "%s\n", resp.Body)
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, resp.Body, "", "  "); err != nil {
		return fmt.Errorf("the userinfo response is not JSON: %w", err)
	}
	out.WriteByte('\n')
	_, err = f.Stdout.Write(out.Bytes())
	return err
}

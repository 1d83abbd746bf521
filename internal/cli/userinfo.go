package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/provider"
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
JSON response. When the provider refuses the token (HTTP 401), sesame
refreshes once and tries again.`,
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
	sess := f.Session(p)
	t, err := sess.Fresh(ctx, 0, false)
	if err != nil {
		return err
	}
	endpoint := t.Endpoints.Userinfo
	if endpoint == "" {
		return fmt.Errorf("profile %q has no userinfo endpoint (set userinfo_url for a provider without discovery)", p.Name)
	}
	resp, err := provider.Userinfo(ctx, f.HTTP, endpoint, t.AccessToken)
	if err == nil && resp.Status == http.StatusUnauthorized {
		// The token may have been revoked or expired early: one refresh.
		if t, err = sess.Fresh(ctx, 0, true); err != nil {
			return err
		}
		resp, err = provider.Userinfo(ctx, f.HTTP, endpoint, t.AccessToken)
	}
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("the userinfo endpoint answered HTTP %d", resp.Status)
	}
	if mt, _, _ := mime.ParseMediaType(resp.ContentType); mt == "application/jwt" {
		// A signed response (Core §5.3.2) is printed as is, so it must be
		// what a JWT can be: visible ASCII, no line break or escape.
		jwt := string(bytes.TrimSpace(resp.Body))
		if err := grant.CheckTokenChars("signed userinfo response", jwt); err != nil {
			return fmt.Errorf("unusable userinfo response: %w", err)
		}
		_, err = fmt.Fprintln(f.Stdout, jwt)
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

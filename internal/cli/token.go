package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// TokenOptions are the inputs of `sesame token`.
type TokenOptions struct {
	F       *Factory
	MinTTL  time.Duration
	JSON    bool
	IDToken bool
}

// NewCmdToken builds `sesame token`.
func NewCmdToken(f *Factory, runF func(context.Context, *TokenOptions) error) *cobra.Command {
	o := &TokenOptions{F: f}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a valid access token for scripts, refreshing it if needed",
		Long: `Print the profile's access token and a newline on stdout, and nothing else.
When the token is expired or expires within --min-ttl, it is refreshed first and
the new tokens (including a rotated refresh token) are stored.
Exits 4 when a new login is needed.`,
		Example: `  curl -H "Authorization: Bearer $(sesame token)" https://api.example.com/me
  sesame token --json | jq -r .expires_at`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return tokenRun(cmd.Context(), o)
		},
	}
	cmd.Flags().DurationVar(&o.MinTTL, "min-ttl", 60*time.Second, "refresh when the token expires within this time")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print access_token, token_type, expires_at and scope as JSON")
	cmd.Flags().BoolVar(&o.IDToken, "id-token", false, "print the ID token instead of the access token")
	return cmd
}

func tokenRun(ctx context.Context, o *TokenOptions) error {
	f := o.F
	_, p, err := f.Profile()
	if err != nil {
		return err
	}
	t, err := f.Session(p).Fresh(ctx, o.MinTTL, false)
	if err != nil {
		return err
	}
	switch {
	case o.JSON:
		out := struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type,omitempty"`
			ExpiresAt   string `json:"expires_at,omitempty"`
			Scope       string `json:"scope,omitempty"`
			IDToken     string `json:"id_token,omitempty"`
		}{AccessToken: t.AccessToken, TokenType: t.TokenType, Scope: t.Scope}
		if !t.Expiry.IsZero() {
			out.ExpiresAt = t.Expiry.UTC().Format(time.RFC3339)
		}
		if o.IDToken {
			out.IDToken = t.IDToken
		}
		return json.NewEncoder(f.Stdout).Encode(out)
	case o.IDToken:
		if t.IDToken == "" {
			return fmt.Errorf("profile %q has no ID token (was the openid scope requested?)", p.Name)
		}
		_, err = fmt.Fprintln(f.Stdout, t.IDToken)
	default:
		_, err = fmt.Fprintln(f.Stdout, t.AccessToken)
	}
	return err
}

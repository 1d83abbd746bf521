package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/inspect"
	"github.com/sesame-cli/sesame/internal/term"
)

// ClaimsOptions are the inputs of `sesame claims`.
type ClaimsOptions struct {
	F        *Factory
	Token    string
	Choice   tokenChoice
	Audience string
	Issuer   string
	Skew     time.Duration
	JSON     bool
}

// NewCmdClaims builds `sesame claims [TOKEN | -]`.
func NewCmdClaims(f *Factory, runF func(context.Context, *ClaimsOptions) error) *cobra.Command {
	o := &ClaimsOptions{F: f}
	cmd := &cobra.Command{
		Use:   "claims [TOKEN | -]",
		Short: "Decode a token and verify it against the provider's keys",
		Long: `Decode a JWT's header and claims, verify its signature against the issuer's
JWKS (RS, PS, ES and EdDSA algorithms; "none" and HMAC are refused), and
check iss, aud (the client id for ID tokens), exp, nbf and iat with a small
clock skew. Without an argument, the profile's ID token; --access-token,
--resource or --org pick another stored token; - reads the token from stdin,
which keeps it out of the process list. Exits 1 when a check fails.`,
		Example: `  sesame claims
  sesame claims --access-token --json | jq .claims.scope
  sesame token --resource https://api.example.com | sesame claims - --audience https://api.example.com`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Token = args[0]
			}
			if err := o.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return claimsRun(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.Choice.IDToken, "id-token", false, "the stored ID token (the default)")
	fl.BoolVar(&o.Choice.AccessToken, "access-token", false, "the stored access token")
	addTargetFlags(cmd, f, &o.Choice)
	fl.StringVar(&o.Issuer, "issuer", "", "the iss to expect, whose keys verify the token (default: the profile's issuer); without one the token is never called valid")
	fl.StringVar(&o.Audience, "audience", "", "the aud to expect (default: the client id for ID tokens, the resource for resource tokens)")
	fl.DurationVar(&o.Skew, "skew", inspect.DefaultSkew, "clock skew allowed for exp, nbf and iat")
	fl.BoolVar(&o.JSON, "json", false, "print token, header, claims, checks, valid and problems as JSON")
	return cmd
}

// validate checks the flags on their own, before anything runs.
func (o *ClaimsOptions) validate() error {
	c := o.Choice
	picks := 0
	for _, on := range []bool{c.IDToken, c.AccessToken, c.Resource != "" || c.Org != ""} {
		if on {
			picks++
		}
	}
	switch {
	case picks > 1:
		return flagErrorf("choose one token: --id-token, --access-token, or --resource/--org")
	case picks > 0 && o.Token != "":
		return flagErrorf("a token was given as an argument: --id-token, --access-token, --resource and --org pick a stored one instead")
	case o.Skew < 0:
		return flagErrorf("--skew %s is negative", o.Skew)
	}
	return nil
}

func claimsRun(ctx context.Context, o *ClaimsOptions) error {
	f := o.F
	_, p, err := f.Profile()
	if err != nil {
		return err
	}
	pt, err := pickToken(ctx, f, p, o.Token, o.Choice, "id_token")
	if err != nil {
		return err
	}
	opts := inspect.Options{
		HTTP: f.HTTP, Issuer: pt.Endpoints.Issuer, JWKSURL: pt.Endpoints.JWKS,
		Audience: pt.Audience, Now: f.Now, Skew: o.Skew, KeyJKT: pt.KeyJKT,
	}
	if opts.Issuer == "" {
		// A token given by the user: pin the profile's issuer when there is
		// one, so a token cannot pick the server that vouches for it.
		opts.Issuer = p.Issuer
	}
	if o.Issuer != "" {
		opts.Issuer = o.Issuer
	}
	if o.Audience != "" {
		opts.Audience = o.Audience
	}
	if o.Skew == 0 {
		opts.Skew = -1 // --skew 0: no tolerance at all
	}
	r, err := inspect.Inspect(ctx, pt.Raw, opts)
	switch {
	case errors.Is(err, inspect.ErrNotJWT):
		return fmt.Errorf("this token is opaque, not a JWT: only the provider can tell what it holds; try `sesame introspect`")
	case err != nil:
		return err
	}
	if o.JSON {
		enc := json.NewEncoder(f.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		inspect.Render(f.HumanOut(), r, f.Now(), f.Color())
	}
	if !r.Valid {
		return &CodeError{Code: ExitError, Err: fmt.Errorf("the token is not valid: %s", term.Clean(strings.Join(r.Problems, "; ")))}
	}
	return nil
}

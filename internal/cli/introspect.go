package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/term"
)

// IntrospectOptions are the inputs of `sesame introspect`.
type IntrospectOptions struct {
	F      *Factory
	Token  string
	Choice tokenChoice
	JSON   bool
}

// NewCmdIntrospect builds `sesame introspect [TOKEN | -]`.
func NewCmdIntrospect(f *Factory, runF func(context.Context, *IntrospectOptions) error) *cobra.Command {
	o := &IntrospectOptions{F: f}
	cmd := &cobra.Command{
		Use:   "introspect [TOKEN | -]",
		Short: "Ask the provider whether a token is active (RFC 7662)",
		Long: `Send a token to the provider's introspection endpoint (through the broker
when the profile has one: introspection usually needs client authentication)
and print the response. Without an argument, the profile's access token;
with -, the token on stdin. Exits 1 when the token is not active.`,
		Example: `  sesame introspect
  sesame introspect --refresh-token --json
  pbpaste | sesame introspect -`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Token = args[0]
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return introspectRun(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.Choice.AccessToken, "access-token", false, "the stored access token (the default)")
	fl.BoolVar(&o.Choice.RefreshToken, "refresh-token", false, "the stored refresh token")
	addTargetFlags(cmd, f, &o.Choice)
	fl.BoolVar(&o.JSON, "json", false, "print the response as JSON")
	return cmd
}

func introspectRun(ctx context.Context, o *IntrospectOptions) error {
	f := o.F
	_, p, err := f.Profile()
	if err != nil {
		return err
	}
	pt, err := pickToken(ctx, f, p, o.Token, o.Choice, "access_token")
	if err != nil {
		return err
	}
	hint := ""
	if pt.Kind == "access_token" || pt.Kind == "refresh_token" {
		hint = pt.Kind
	}
	resp, err := f.Session(p).Introspect(ctx, pt.Raw, hint, pt.ClientID, pt.Endpoints)
	if err != nil {
		return err
	}
	if o.JSON {
		enc := json.NewEncoder(f.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(resp); err != nil {
			return err
		}
	} else {
		printIntrospection(f.HumanOut(), resp, f.Now())
	}
	if resp["active"] != true {
		return &CodeError{Code: ExitError, Err: errors.New("the token is not active (expired, revoked, or not from this provider)")}
	}
	return nil
}

// printIntrospection shows active first, then the members sorted, with
// times in absolute and relative form.
func printIntrospection(w io.Writer, resp map[string]any, now time.Time) {
	tw := term.Table(w)
	defer tw.Flush()
	fmt.Fprintf(tw, "active:\t%v\n", resp["active"])
	keys := make([]string, 0, len(resp))
	for k := range resp {
		if k != "active" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := fmt.Sprint(resp[k])
		if n, ok := resp[k].(float64); ok && (k == "exp" || k == "iat" || k == "nbf" || k == "auth_time") {
			v = term.When(time.Unix(int64(n), 0), now)
		} else if list, ok := resp[k].([]any); ok {
			parts := make([]string, len(list))
			for i, x := range list {
				parts[i] = fmt.Sprint(x)
			}
			v = strings.Join(parts, " ")
		}
		fmt.Fprintf(tw, "%s:\t%s\n", term.Clean(k), term.Clean(v))
	}
}

package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/cmdutil"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/session"
)

// Which stored token a debugging command looks at.
type tokenChoice struct {
	IDToken, AccessToken, RefreshToken bool
	Resource, Org                      string
}

// addTargetFlags adds --resource and --org, which pick a stored resource or
// organization token.
func addTargetFlags(cmd *cobra.Command, f *Factory, c *tokenChoice) {
	cmd.Flags().StringVar(&c.Resource, "resource", "", "the stored token for this resource")
	cmd.Flags().StringVar(&c.Org, "org", "", "the stored token for this organization")
	cmd.RegisterFlagCompletionFunc("org", cmdutil.CompleteOrgs(f))
}

// pickedToken is a token to inspect, and what is known about where it came from.
type pickedToken struct {
	Raw       string
	Kind      string // "id_token", "access_token", "refresh_token", or "" for a token given by the user
	Endpoints session.Endpoints
	ClientID  string
	Audience  string // what its aud should hold, when known
	// KeyJKT is the thumbprint of the DPoP key a stored access token is
	// bound to, when the login is bound.
	KeyJKT string
}

// pickToken returns the token a debugging command works on: arg itself,
// stdin for "-" (keeps tokens out of the process list), or one of the
// profile's stored tokens, fresh for at least a minute.
func pickToken(ctx context.Context, f *Factory, p config.Profile, arg string, c tokenChoice, def string) (pickedToken, error) {
	switch arg {
	case "-":
		raw, err := readToken(f.Stdin)
		return pickedToken{Raw: raw, ClientID: p.ClientID}, err
	case "":
	default:
		return pickedToken{Raw: strings.TrimSpace(arg), ClientID: p.ClientID}, nil
	}
	sess := f.Session(p)
	kind := def
	switch {
	case c.IDToken:
		kind = "id_token"
	case c.AccessToken || c.Resource != "" || c.Org != "":
		kind = "access_token"
	case c.RefreshToken:
		kind = "refresh_token"
	}
	if c.Resource != "" || c.Org != "" {
		t, err := sess.Load()
		if err != nil {
			return pickedToken{}, err
		}
		d, err := sess.FreshFor(ctx, session.Target{Resource: c.Resource, Org: c.Org}, 0, false)
		if err != nil {
			return pickedToken{}, err
		}
		aud := c.Resource
		if aud == "" {
			aud = session.OrganizationAudience(c.Org)
		}
		return pickedToken{Raw: d.AccessToken, Kind: kind, Endpoints: t.Endpoints, ClientID: t.ClientID, Audience: aud, KeyJKT: keyJKT(t)}, nil
	}
	t, err := sess.Fresh(ctx, 0, false)
	if err != nil {
		return pickedToken{}, err
	}
	pt := pickedToken{Kind: kind, Endpoints: t.Endpoints, ClientID: t.ClientID}
	switch kind {
	case "id_token":
		pt.Raw, pt.Audience = t.IDToken, t.ClientID
		if pt.Raw == "" {
			return pickedToken{}, fmt.Errorf("profile %q has no ID token (was the openid scope requested?); try --access-token", p.Name)
		}
	case "refresh_token":
		pt.Raw = t.RefreshToken
		if pt.Raw == "" {
			return pickedToken{}, fmt.Errorf("profile %q has no refresh token", p.Name)
		}
	default:
		pt.Raw, pt.KeyJKT = t.AccessToken, keyJKT(t)
	}
	return pt, nil
}

// keyJKT is the thumbprint of t's DPoP key, "" for bearer tokens; an
// unusable key gives a thumbprint no token names, so the check fails.
func keyJKT(t *session.Tokens) string {
	k, err := t.Key()
	switch {
	case err != nil:
		return "(unusable stored key)"
	case k == nil:
		return ""
	}
	return k.Thumbprint()
}

func readToken(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 1<<20)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the token from stdin: %w", err)
	}
	if line = strings.TrimSpace(line); line == "" {
		return "", flagErrorf("no token on stdin")
	}
	return line, nil
}

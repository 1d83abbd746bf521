package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/term"
)

// ProfileOptions are the inputs of the `sesame profile` commands.
type ProfileOptions struct {
	F      *Factory
	Name   string
	JSON   bool
	Revoke bool
}

// NewCmdProfile builds `sesame profile list|show|use|remove`.
func NewCmdProfile(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "List, show, select and remove profiles",
		Args:  cobra.NoArgs,
	}
	names := completeProfiles(f)
	sub := func(use, short string, args cobra.PositionalArgs, run func(context.Context, *ProfileOptions) error) (*cobra.Command, *ProfileOptions) {
		o := &ProfileOptions{F: f}
		c := &cobra.Command{
			Use: use, Short: short, Args: args,
			ValidArgsFunction: func(c *cobra.Command, a []string, s string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(a) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return names(c, a, s)
			},
			RunE: func(c *cobra.Command, a []string) error {
				if len(a) > 0 {
					o.Name = a[0]
				}
				return run(c.Context(), o)
			},
		}
		return c, o
	}
	list, lo := sub("list", "List the profiles; the current one is marked", cobra.NoArgs, profileList)
	list.Flags().BoolVar(&lo.JSON, "json", false, "print a JSON array")
	show, so := sub("show [NAME]", "Show a profile's settings (default: the current profile)", cobra.MaximumNArgs(1), profileShow)
	show.Flags().BoolVar(&so.JSON, "json", false, "print the settings as JSON")
	use, _ := sub("use NAME", "Make NAME the current profile", cobra.ExactArgs(1), profileUse)
	remove, ro := sub("remove NAME", "Remove a profile and its stored tokens", cobra.ExactArgs(1), profileRemove)
	remove.Flags().BoolVar(&ro.Revoke, "revoke", false, "revoke the login at the provider first")
	cmd.AddCommand(list, show, use, remove)
	return cmd
}

func profileList(_ context.Context, o *ProfileOptions) error {
	f := o.F
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	current := cfg.ProfileName(f.ProfileFlag)
	type row struct {
		Name    string `json:"name"`
		Current bool   `json:"current"`
		Issuer  string `json:"issuer,omitempty"`
	}
	var rows []row
	for _, n := range cfg.ProfileNames() {
		p, err := cfg.Profile(n)
		if err != nil {
			return err
		}
		iss := p.Issuer
		if iss == "" {
			iss = p.AuthURL
		}
		rows = append(rows, row{Name: n, Current: n == current, Issuer: iss})
	}
	if o.JSON {
		if rows == nil {
			rows = []row{}
		}
		return json.NewEncoder(f.Stdout).Encode(rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(f.Stderr, "No profiles yet: run `sesame init ISSUER` or `sesame login --issuer URL --client-id ID`.")
	}
	out := f.HumanOut()
	for _, r := range rows {
		mark := " "
		if r.Current {
			mark = "*"
		}
		fmt.Fprintf(out, "%s %-16s %s\n", mark, r.Name, r.Issuer)
	}
	return nil
}

func profileShow(_ context.Context, o *ProfileOptions) error {
	f := o.F
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	name := o.Name
	if name == "" {
		name = cfg.ProfileName(f.ProfileFlag)
	}
	if !slices.Contains(cfg.ProfileNames(), name) {
		return fmt.Errorf("no profile %q in %s; see `sesame profile list`", name, cfg.Path)
	}
	p, err := cfg.Profile(name)
	if err != nil {
		return err
	}
	if o.JSON {
		out := map[string]any{"name": name, "config": cfg.Path}
		for k, v := range map[string]any{"issuer": p.Issuer, "client_id": p.ClientID, "scopes": p.Scopes, "resources": p.Resources,
			"params": p.Params, "storage": p.Storage, "port": p.Port, "broker": p.Broker, "auth_url": p.AuthURL, "token_url": p.TokenURL,
			"userinfo_url": p.UserinfoURL, "revocation_url": p.RevocationURL, "introspection_url": p.IntrospectionURL,
			"end_session_url": p.EndSessionURL, "jwks_url": p.JWKSURL, "device_url": p.DeviceURL} {
			if !reflect.ValueOf(v).IsZero() {
				out[k] = v
			}
		}
		return json.NewEncoder(f.Stdout).Encode(out)
	}
	out := f.HumanOut()
	fmt.Fprintf(out, "profile %s (%s)\n", name, cfg.Path)
	for _, kv := range [][2]string{
		{"issuer", p.Issuer}, {"client_id", p.ClientID}, {"scopes", strings.Join(p.Scopes, " ")},
		{"resources", strings.Join(p.Resources, " ")}, {"params", formatParams(p.Params)},
		{"storage", p.Storage}, {"port", portText(p.Port)}, {"broker", p.Broker},
		{"auth_url", p.AuthURL}, {"token_url", p.TokenURL}, {"userinfo_url", p.UserinfoURL},
		{"revocation_url", p.RevocationURL}, {"introspection_url", p.IntrospectionURL},
		{"end_session_url", p.EndSessionURL}, {"jwks_url", p.JWKSURL}, {"device_url", p.DeviceURL},
	} {
		if kv[1] != "" {
			fmt.Fprintf(out, "  %-18s %s\n", kv[0]+":", term.Clean(kv[1]))
		}
	}
	return nil
}

func profileUse(_ context.Context, o *ProfileOptions) error {
	f := o.F
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	if !slices.Contains(cfg.ProfileNames(), o.Name) {
		return fmt.Errorf("no profile %q in %s; see `sesame profile list`", o.Name, cfg.Path)
	}
	if err := config.SetCurrent(cfg.Path, o.Name); err != nil {
		return err
	}
	fmt.Fprintf(f.Stderr, "Profile %q is now the current one.\n", o.Name)
	return nil
}

func profileRemove(ctx context.Context, o *ProfileOptions) error {
	f := o.F
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	p, err := cfg.Profile(o.Name)
	if err != nil {
		return err
	}
	if !slices.Contains(cfg.ProfileNames(), o.Name) {
		return fmt.Errorf("no profile %q in %s; see `sesame profile list`", o.Name, cfg.Path)
	}
	if _, err := f.Session(p).Logout(ctx, o.Revoke); err != nil {
		return fmt.Errorf("remove the tokens of profile %q: %w", o.Name, err)
	}
	if err := config.RemoveProfile(cfg.Path, o.Name); err != nil && !errors.Is(err, config.ErrProfileNotFound) {
		return err
	}
	fmt.Fprintf(f.Stderr, "Removed profile %q and its tokens.\n", o.Name)
	return nil
}

func formatParams(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func portText(p int) string {
	if p == 0 {
		return ""
	}
	return fmt.Sprint(p)
}

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

	"github.com/sesame-cli/sesame/internal/cmdutil"
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
	names := cmdutil.CompleteProfiles(f)
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
	out := term.Table(f.HumanOut())
	for _, r := range rows {
		mark := " "
		if r.Current {
			mark = "*"
		}
		fmt.Fprintf(out, "%s %s\t%s\n", mark, term.Clean(r.Name), term.Clean(r.Issuer))
	}
	return out.Flush()
}

func profileShow(_ context.Context, o *ProfileOptions) error {
	f := o.F
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	sel, err := selectNamed(f, cfg, o.Name)
	if err != nil {
		return err
	}
	name := sel.Name
	p, err := cfg.Profile(name)
	if err != nil {
		return err
	}
	// Every key, in the file's order, comes from the Profile struct tags
	// (config.Profile.Settings); unset ones are left out. Each says where
	// its value came from (config.Config.Origins): SESAME_* variables
	// override the file without showing in it.
	origins := cfg.Origins(name)
	if o.JSON {
		out := map[string]any{"name": name, "config": cfg.Path}
		from := map[string]string{"name": sel.From.String(), "config": f.ConfigOrigin().String()}
		for _, s := range p.Settings() {
			if !reflect.ValueOf(s.Value).IsZero() {
				out[s.Key], from[s.Key] = s.Value, origins[s.Key].String()
			}
		}
		out["origins"] = from
		return json.NewEncoder(f.Stdout).Encode(out)
	}
	out := term.Table(f.HumanOut())
	fmt.Fprintf(out, "profile %s (%s)%s\n", name, cfg.Path, selectedBy(sel, f.ConfigOrigin()))
	for _, s := range p.Settings() {
		if text := settingText(s.Value); text != "" {
			fmt.Fprintf(out, "  %-18s %s\t(%s)\n", s.Key+":", term.Clean(text), origins[s.Key])
		}
	}
	return out.Flush()
}

// selectNamed is the profile a profile subcommand acts on: its NAME
// argument, else the selected one (Factory.Select). Either must be in the
// file: a usage error (exit 2) that lists the known ones otherwise.
func selectNamed(f *Factory, cfg *config.Config, name string) (config.Selection, error) {
	sel := cfg.Select(f.ProfileFlag)
	if name != "" {
		sel = config.Selection{Name: name, From: config.Origin{Kind: config.OriginArg}}
	}
	if err := cfg.CheckExists(sel); err != nil {
		return sel, &CodeError{Code: ExitUsage, Err: err}
	}
	return sel, nil
}

// selectedBy says, after the header, what chose the profile and the file
// when that was not the command line itself.
func selectedBy(sel config.Selection, file config.Origin) string {
	var parts []string
	if sel.From.Kind != config.OriginArg {
		parts = append(parts, "profile from "+sel.From.String())
	}
	if file.Kind != config.OriginDefault {
		parts = append(parts, "file from "+file.String())
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, ", ")
}

// settingText is a setting's value on one line: lists joined by spaces,
// params as sorted k=v pairs, and "" for an unset value.
func settingText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []string:
		return strings.Join(v, " ")
	case map[string]string:
		return formatParams(v)
	case int:
		return portText(v)
	case bool:
		if !v {
			return "" // unset
		}
	}
	return fmt.Sprint(v)
}

func profileUse(_ context.Context, o *ProfileOptions) error {
	f := o.F
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	if _, err := selectNamed(f, cfg, o.Name); err != nil {
		return err
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
	if _, err := selectNamed(f, cfg, o.Name); err != nil {
		return err
	}
	p, err := cfg.Profile(o.Name)
	if err != nil {
		return err
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

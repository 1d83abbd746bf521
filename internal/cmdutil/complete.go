package cmdutil

import (
	"slices"

	"github.com/spf13/cobra"
)

// CompleteProfiles offers the profile names of the configuration file.
func CompleteProfiles(f *Factory) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		cfg, err := f.Config()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return cfg.ProfileNames(), cobra.ShellCompDirectiveNoFileComp
	}
}

// CompleteOrgs offers the organizations the stored login knows of: those
// in the verified ID token's Logto "organizations" claim (kept with the
// identity at login) and those with cached tokens.
func CompleteOrgs(f *Factory) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		_, p, err := f.Profile()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		sess := f.Session(p)
		t, err := sess.Load()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var orgs []string
		if t.Identity != nil {
			orgs = append(orgs, t.Identity.Organizations...)
		}
		for _, d := range sess.DerivedTokens(t) {
			if d.Org != "" {
				orgs = append(orgs, d.Org)
			}
		}
		slices.Sort(orgs)
		return slices.Compact(orgs), cobra.ShellCompDirectiveNoFileComp
	}
}

package cmdutil

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

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
// in the ID token's Logto "organizations" claim and those with cached
// tokens. The ID token is only read here, not verified: it names choices.
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
		if parts := strings.Split(t.IDToken, "."); len(parts) == 3 {
			var claims struct {
				Organizations []string `json:"organizations"`
			}
			if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil && json.Unmarshal(b, &claims) == nil {
				orgs = append(orgs, claims.Organizations...)
			}
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

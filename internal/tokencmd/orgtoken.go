package tokencmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/cmdutil"
)

// NewCmdOrgToken builds `sesame org-token ORG_ID`.
func NewCmdOrgToken(f *cmdutil.Factory, runF func(context.Context, *TokenOptions) error) *cobra.Command {
	o := &TokenOptions{F: f}
	cmd := &cobra.Command{
		Use:   "org-token ORG_ID",
		Short: "Print an organization access token (Logto), refreshing it if needed",
		Long: `Print an access token for a Logto organization: a refresh_token grant with
organization_id (and resource, with --resource). The login must have asked
for the urn:logto:scope:organizations scope. Tokens are cached per
organization and resource; getting one rotates the login's refresh token.`,
		Example: `  sesame login --scope "openid profile offline_access urn:logto:scope:organizations"
  sesame org-token 7sbyi2qakhmz
  sesame org-token 7sbyi2qakhmz --resource https://api.example.com --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ExactMinTTL = cmd.Flags().Changed("min-ttl")
			o.Org = args[0]
			if err := o.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return tokenRun(cmd.Context(), o)
		},
	}
	addTokenFlags(cmd, o)
	cmd.Flags().StringVar(&o.Resource, "resource", "", "RFC 8707 resource: an organization token for this API")
	cmd.ValidArgsFunction = func(c *cobra.Command, args []string, s string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return cmdutil.CompleteOrgs(f)(c, args, s)
	}
	return cmd
}

package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/version"
)

// VersionOptions are the inputs of `sesame version`.
type VersionOptions struct {
	F    *Factory
	JSON bool
}

// NewCmdVersion builds `sesame version`.
func NewCmdVersion(f *Factory, runF func(context.Context, *VersionOptions) error) *cobra.Command {
	o := &VersionOptions{F: f}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return versionRun(o)
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print version, commit, date, go and platform as JSON")
	return cmd
}

func versionRun(o *VersionOptions) error {
	i := version.Get()
	if o.JSON {
		return json.NewEncoder(o.F.Stdout).Encode(i)
	}
	_, err := fmt.Fprintf(o.F.Stdout, "sesame %s\n", i)
	return err
}

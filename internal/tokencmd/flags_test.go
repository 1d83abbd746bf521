package tokencmd

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/cmdutil"
)

// run parses args with cmd and returns the options runF received, or the
// error RunE returned before runF. Nothing runs: runF only records.
func parse[O any](t *testing.T, build func(*cmdutil.Factory, func(context.Context, *O) error) *cobra.Command, args ...string) (*O, error) {
	t.Helper()
	f := cmdutil.NewFactory(strings.NewReader(""), io.Discard, io.Discard, func(string) string { return "" })
	var got *O
	cmd := build(f, func(_ context.Context, o *O) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.ExecuteContext(context.Background())
	return got, err
}

func isUsage(err error) bool {
	var fe *cmdutil.FlagError
	return errors.As(err, &fe)
}

func TestTokenFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    TokenOptions
		wantErr string // a usage error containing this; runF not called
	}{
		{args: nil, want: TokenOptions{MinTTL: time.Minute, Format: FormatRaw}},
		{args: []string{"--json"}, want: TokenOptions{MinTTL: time.Minute, Format: FormatJSON, JSON: true}},
		{args: []string{"--format", "kubectl", "--id-token"}, want: TokenOptions{MinTTL: time.Minute, Format: FormatKubectl, IDToken: true}},
		{args: []string{"--format", "env", "--env-name", "TOKEN"}, want: TokenOptions{MinTTL: time.Minute, Format: FormatEnv, EnvName: "TOKEN"}},
		{args: []string{"--resource", "https://api.example", "--min-ttl", "5m"}, want: TokenOptions{MinTTL: 5 * time.Minute, Format: FormatRaw, Resource: "https://api.example", ExactMinTTL: true}},
		{args: []string{"--min-ttl", "0s"}, want: TokenOptions{Format: FormatRaw, ExactMinTTL: true}},
		{args: []string{"--format", "yaml"}, wantErr: `unknown --format "yaml"`},
		{args: []string{"--id-token", "--resource", "https://api.example"}, wantErr: "--id-token cannot be combined"},
		{args: []string{"--min-ttl", "-1s"}, wantErr: "negative"},
		{args: []string{"--min-ttl", "soon"}, wantErr: "invalid argument"},
		{args: []string{"extra"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, err := parse(t, NewCmdToken, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || got != nil {
					t.Fatalf("err %v, runF called: %v", err, got != nil)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.F = nil
			if *got != tt.want {
				t.Errorf("options %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestOrgTokenFlags(t *testing.T) {
	got, err := parse(t, NewCmdOrgToken, "acme", "--resource", "https://api.example", "--format", "json")
	if err != nil || got.Org != "acme" || got.Resource != "https://api.example" || got.Format != FormatJSON {
		t.Fatalf("%+v %v", got, err)
	}
	for _, args := range [][]string{{}, {"a", "b"}, {"acme", "--id-token"}, {"acme", "--format", "xml"}} {
		if got, err := parse(t, NewCmdOrgToken, args...); err == nil || got != nil {
			t.Errorf("%q: accepted (%v)", args, err)
		}
	}
}

func TestExecFlags(t *testing.T) {
	got, err := parse(t, NewCmdExec, "--env-name", "API_TOKEN", "--org", "acme", "--", "curl", "-s", "--fail")
	if err != nil || got.Token.EnvName != "API_TOKEN" || got.Token.Org != "acme" || strings.Join(got.Args, " ") != "curl -s --fail" || got.Token.MinTTL != 5*time.Minute {
		t.Fatalf("%+v %v", got, err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{}, "requires at least 1 arg"},
		{[]string{"--env-name", "", "--", "true"}, "not a variable name"},
		{[]string{"--env-name", "A=B", "--", "true"}, "not a variable name"},
		{[]string{"--min-ttl", "-5m", "--", "true"}, "negative"},
	} {
		if got, err := parse(t, NewCmdExec, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) || got != nil {
			t.Errorf("%q: %v", tt.args, err)
		}
	}
	if _, err := parse(t, NewCmdExec, "--env-name", "A=B", "--", "true"); !isUsage(err) {
		t.Errorf("a bad --env-name is not a usage error: %T", err)
	}
}

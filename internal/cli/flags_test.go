package cli

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// parseFlags runs cmd on args with a runF that only records the options:
// it shows what the flags turn into, and that usage mistakes are refused
// before runF, whatever it would do.
func parseFlags[O any](t *testing.T, build func(*Factory, func(context.Context, *O) error) *cobra.Command, args ...string) (*O, error) {
	t.Helper()
	f := NewFactory(strings.NewReader(""), io.Discard, io.Discard, func(string) string { return "" })
	var got *O
	cmd := build(f, func(_ context.Context, o *O) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	return got, cmd.ExecuteContext(context.Background())
}

func TestLoginFlags(t *testing.T) {
	tests := []struct {
		args    []string
		check   func(*LoginOptions) bool
		wantErr string
	}{
		{args: []string{"--issuer", "https://idp.example", "--client-id", "cli"}, check: func(o *LoginOptions) bool {
			return o.Issuer == "https://idp.example" && o.ClientID == "cli" && o.Timeout == 5*time.Minute && o.Changed("issuer") && !o.Changed("scope")
		}},
		{args: []string{"--scope", "openid email", "--resource", "https://a", "--resource", "https://b", "--param", "login_hint=alice", "--port", "8765"}, check: func(o *LoginOptions) bool {
			return o.Scope == "openid email" && len(o.Resources) == 2 && o.Params[0] == "login_hint=alice" && o.Port == 8765
		}},
		{args: []string{"--device", "--timeout", "90s"}, check: func(o *LoginOptions) bool { return o.Device && o.Timeout == 90*time.Second }},
		{args: []string{"--no-browser", "--insecure-storage", "--broker", "https://broker.example"}, check: func(o *LoginOptions) bool {
			return o.NoBrowser && o.InsecureStorage && o.Broker == "https://broker.example" && !o.NoPreflight
		}},
		{args: []string{"--no-preflight"}, check: func(o *LoginOptions) bool { return o.NoPreflight && !o.DPoP }},
		{args: []string{"--dpop"}, check: func(o *LoginOptions) bool { return o.DPoP && o.Changed("dpop") }},
		{args: []string{"--param", "dpop_jkt=x"}, wantErr: "not allowed"},
		{args: []string{"--param", "nokeyvalue"}, wantErr: "want key=value"},
		{args: []string{"--param", "=x"}, wantErr: "want key=value"},
		{args: []string{"--param", "code_challenge_method=plain"}, wantErr: "not allowed"},
		{args: []string{"--param", "state=fixed"}, wantErr: "not allowed"},
		{args: []string{"--port", "70000"}, wantErr: "out of range"},
		{args: []string{"--timeout", "0s"}, wantErr: "must be positive"},
		{args: []string{"--device", "--no-browser"}, wantErr: "do not apply"},
		{args: []string{"--device", "--port", "8765"}, wantErr: "do not apply"},
		{args: []string{"positional"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, err := parseFlags(t, NewCmdLogin, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || got != nil {
					t.Fatalf("err %v, runF called: %v", err, got != nil)
				}
				return
			}
			if err != nil || !tt.check(got) {
				t.Fatalf("%+v %v", got, err)
			}
		})
	}
}

func TestClaimsFlags(t *testing.T) {
	tests := []struct {
		args    []string
		check   func(*ClaimsOptions) bool
		wantErr string
	}{
		{args: nil, check: func(o *ClaimsOptions) bool { return o.Token == "" && o.Skew == time.Minute }},
		{args: []string{"-", "--audience", "api", "--issuer", "https://idp.example", "--json"}, check: func(o *ClaimsOptions) bool {
			return o.Token == "-" && o.Audience == "api" && o.Issuer == "https://idp.example" && o.JSON
		}},
		{args: []string{"--org", "acme", "--skew", "0s"}, check: func(o *ClaimsOptions) bool { return o.Choice.Org == "acme" && o.Skew == 0 }},
		{args: []string{"--access-token"}, check: func(o *ClaimsOptions) bool { return o.Choice.AccessToken }},
		{args: []string{"--id-token", "--access-token"}, wantErr: "choose one token"},
		{args: []string{"--access-token", "--org", "acme"}, wantErr: "choose one token"},
		{args: []string{"eyJ.x.y", "--id-token"}, wantErr: "given as an argument"},
		{args: []string{"--skew", "-1s"}, wantErr: "negative"},
		{args: []string{"a", "b"}, wantErr: "accepts at most 1 arg"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, err := parseFlags(t, NewCmdClaims, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || got != nil {
					t.Fatalf("err %v, runF called: %v", err, got != nil)
				}
				return
			}
			if err != nil || !tt.check(got) {
				t.Fatalf("%+v %v", got, err)
			}
		})
	}
}

func TestAPIFlags(t *testing.T) {
	tests := []struct {
		args    []string
		check   func(*APIOptions) bool
		wantErr string
	}{
		{args: []string{"/me"}, check: func(o *APIOptions) bool { return o.Target == "/me" && o.Method == "" && !o.Include }},
		{args: []string{"-X", "POST", "-H", "A: 1", "-H", "B: 2", "-d", "@-", "-i", "--silent", "https://api.example/x"}, check: func(o *APIOptions) bool {
			return o.Method == "POST" && len(o.Headers) == 2 && o.Data == "@-" && o.Include && o.Silent && o.Target == "https://api.example/x"
		}},
		{args: []string{"-F", "a=1", "-F", "b=x", "--form", "--jq", ".a", "--paginate", "/items"}, check: func(o *APIOptions) bool {
			return len(o.Fields) == 2 && o.Form && o.JQ == ".a" && o.Paginate
		}},
		{args: []string{"--resource", "https://api.example", "/me"}, check: func(o *APIOptions) bool { return o.Resource == "https://api.example" }},
		{args: []string{"--resource", "https://api.example", "--org", "acme", "/me"}, wantErr: "cannot be combined"},
		{args: nil, wantErr: "accepts 1 arg"},
		{args: []string{"/a", "/b"}, wantErr: "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, err := parseFlags(t, NewCmdAPI, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || got != nil {
					t.Fatalf("err %v, runF called: %v", err, got != nil)
				}
				return
			}
			if err != nil || !tt.check(got) {
				t.Fatalf("%+v %v", got, err)
			}
		})
	}
}

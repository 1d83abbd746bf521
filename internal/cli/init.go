package cli

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/session"
)

// InitOptions are the inputs of `sesame init ISSUER`.
type InitOptions struct {
	F        *Factory
	Issuer   string
	Name     string
	ClientID string
	Scope    string
	Port     int
	Broker   string
	Use      bool
	Changed  func(string) bool
}

// NewCmdInit builds `sesame init ISSUER`.
func NewCmdInit(f *Factory, runF func(context.Context, *InitOptions) error) *cobra.Command {
	o := &InitOptions{F: f}
	cmd := &cobra.Command{
		Use:   "init ISSUER",
		Short: "Create a profile from a provider's discovery document",
		Long: `Read ISSUER's discovery document, show what the provider supports, and write a
profile. On a terminal it asks for what flags did not give; elsewhere every
answer comes from flags (--client-id at least).`,
		Example: `  sesame init https://tenant.logto.app/oidc
  sesame init https://dev-123.okta.com/oauth2/default --name okta --client-id 0oa1b2c3 --port 8765 --use`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Issuer, o.Changed = args[0], cmd.Flags().Changed
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return initRun(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Name, "name", "", "profile name (default: --profile, or \"default\" when there is none yet)")
	fl.StringVar(&o.ClientID, "client-id", "", "OAuth client id")
	fl.StringVar(&o.Scope, "scope", "", "scopes, space- or comma-separated (default: the OpenID Connect ones the provider offers)")
	fl.IntVar(&o.Port, "port", 0, "pin the loopback port (for providers that match redirect URIs exactly)")
	fl.StringVar(&o.Broker, "broker", "", "sesame-broker URL, for confidential clients")
	fl.BoolVar(&o.Use, "use", false, "make the new profile the current one")
	return cmd
}

func initRun(ctx context.Context, o *InitOptions) error {
	f := o.F
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	md, err := provider.Discover(ctx, f.HTTP, o.Issuer)
	if err != nil {
		return fmt.Errorf("read the provider's discovery document: %w\nrun `sesame doctor --issuer %s` for a full check", err, o.Issuer)
	}
	ep := provider.FromMetadata(md)
	yes := map[bool]string{true: "yes", false: "no"}
	fmt.Fprintf(f.Stderr, "Found %s\n  PKCE S256: %s   refresh tokens: %s   device login: %s   RFC 9207 iss: %s\n",
		md.Issuer, yes[slices.Contains(md.CodeChallengeMethodsSupported, "S256")],
		yes[slices.Contains(md.ScopesSupported, "offline_access")], yes[ep.Device != ""], yes[md.IssParameterSupported])

	ask := prompter(f)
	name := o.Name
	if name == "" {
		name = f.ProfileFlag
	}
	if name == "" {
		name = config.DefaultProfile
		if slices.Contains(cfg.ProfileNames(), name) {
			u, _ := url.Parse(md.Issuer)
			name = strings.Split(u.Hostname(), ".")[0]
		}
		name = ask("Profile name", name)
	}
	if err := config.ValidateName(name); err != nil {
		return &FlagError{Err: err}
	}
	clientID := o.ClientID
	if clientID == "" {
		clientID = ask("Client id (a native/public client registered at the provider)", "")
	}
	if clientID == "" {
		return flagErrorf("a client id is needed: pass --client-id")
	}
	scopes := splitList(o.Scope)
	if !o.Changed("scope") {
		scopes = defaultScopesFor(md)
		scopes = splitList(ask("Scopes", strings.Join(scopes, " ")))
	}
	port := o.Port
	if !o.Changed("port") {
		if v := ask("Loopback port (empty for any free port; pin one if the provider matches redirect URIs exactly)", ""); v != "" {
			if port, err = strconv.Atoi(v); err != nil {
				return flagErrorf("port %q: %v", v, err)
			}
		}
	}
	set := map[string]any{"issuer": md.Issuer, "client_id": clientID, "scopes": scopes, "port": port, "broker": o.Broker}
	p := config.Profile{Name: name, Issuer: md.Issuer, ClientID: clientID, Scopes: scopes, Port: port, Broker: o.Broker}
	if err := p.Validate(); err != nil {
		return &FlagError{Err: err}
	}
	if err := config.SaveProfile(cfg.Path, name, set); err != nil {
		return err
	}
	if o.Use || cfg.Current == "" && name != config.DefaultProfile {
		if err := config.SetCurrent(cfg.Path, name); err != nil {
			return err
		}
	}
	redirect := "http://127.0.0.1/callback (any port)"
	if port != 0 {
		redirect = fmt.Sprintf("http://127.0.0.1:%d/callback", port)
	}
	fmt.Fprintf(f.Stderr, "Wrote profile %q to %s.\nRegister %s as a redirect URI of the client, then run `%s`.\n",
		name, cfg.Path, redirect, session.LoginCommand(name))
	return nil
}

// defaultScopesFor asks for what the provider offers of the usual OpenID
// Connect scopes, and Logto's organizations scope when it is there.
func defaultScopesFor(md *provider.Metadata) []string {
	want := append(slices.Clone(defaultOIDCScopes), "urn:logto:scope:organizations")
	if len(md.ScopesSupported) == 0 {
		return defaultOIDCScopes
	}
	var out []string
	for _, s := range want {
		if s == "openid" || slices.Contains(md.ScopesSupported, s) {
			out = append(out, s)
		}
	}
	return out
}

// prompter asks on the terminal and returns def elsewhere: sesame never
// prompts a script.
func prompter(f *Factory) func(question, def string) string {
	in, ok := f.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) || !f.StderrIsTTY() {
		return func(_, def string) string { return def }
	}
	r := bufio.NewReader(in)
	return func(question, def string) string {
		if def != "" {
			fmt.Fprintf(f.Stderr, "%s [%s]: ", question, def)
		} else {
			fmt.Fprintf(f.Stderr, "%s: ", question)
		}
		line, _ := r.ReadString('\n')
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
		return def
	}
}

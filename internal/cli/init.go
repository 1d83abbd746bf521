package cli

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/login"
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
	if err := config.CheckIssuer(o.Issuer); err != nil {
		return &FlagError{Err: err}
	}
	cfg, err := f.ConfigOrNew()
	if err != nil {
		return err
	}
	sv, err := login.Discover(ctx, f.HTTP, o.Issuer)
	if err != nil {
		return fmt.Errorf("read the provider's discovery document: %w\nrun `sesame doctor --issuer %s` for a full check", err, o.Issuer)
	}
	yes := map[bool]string{true: "yes", false: "no"}
	fmt.Fprintf(f.Stderr, "Found %s\n  PKCE S256: %s   refresh tokens: %s   device login: %s   RFC 9207 iss: %s\n",
		sv.Issuer, yes[sv.S256], yes[sv.Refresh], yes[sv.Device], yes[sv.IssParam])

	ask := func(question, def string) string {
		if err == nil {
			var answer string
			if answer, err = f.Prompter.Prompt(ctx, question, def); err == nil {
				return answer
			}
		}
		return def
	}
	name := o.Name
	if name == "" {
		name = f.ProfileFlag
	}
	if name == "" {
		name = config.DefaultProfile
		if slices.Contains(cfg.ProfileNames(), name) {
			u, _ := url.Parse(sv.Issuer)
			name = strings.Split(u.Hostname(), ".")[0]
		}
		name = ask("Profile name", name)
	}
	if err != nil {
		return err
	}
	if err := config.ValidateName(name); err != nil {
		return &FlagError{Err: err}
	}
	clientID := o.ClientID
	if clientID == "" {
		clientID = ask("Client id (a native/public client registered at the provider)", "")
	}
	if err != nil {
		return err // interrupted at a question: nothing is written
	}
	if clientID == "" {
		return flagErrorf("a client id is needed: pass --client-id")
	}
	scopes := config.SplitList(o.Scope)
	if !o.Changed("scope") {
		scopes = config.SplitList(ask("Scopes", strings.Join(sv.Scopes, " ")))
	}
	port := o.Port
	if !o.Changed("port") {
		if v := ask("Loopback port (empty for any free port; pin one if the provider matches redirect URIs exactly)", ""); v != "" {
			if port, err = strconv.Atoi(v); err != nil {
				return flagErrorf("port %q: %v", v, err)
			}
		}
	}
	if err != nil {
		return err // interrupted at a question: nothing is written
	}
	set := map[string]any{"issuer": sv.Issuer, "client_id": clientID, "scopes": scopes, "port": port, "broker": o.Broker}
	p := config.Profile{Name: name, Issuer: sv.Issuer, ClientID: clientID, Scopes: scopes, Port: port, Broker: o.Broker}
	if err := p.Validate(); err != nil {
		return &FlagError{Err: err}
	}
	if err := config.SaveProfile(cfg.Path, name, set); err != nil {
		return err
	}
	current, err := makeCurrent(cfg, name, o.Use)
	if err != nil {
		return err
	}
	redirect := "http://127.0.0.1/callback (any port)"
	if port != 0 {
		redirect = fmt.Sprintf("http://127.0.0.1:%d/callback", port)
	}
	fmt.Fprintf(f.Stderr, "Wrote profile %q to %s.\nRegister %s as a redirect URI of the client, then run `%s`.\n",
		name, cfg.Path, redirect, session.LoginCommand(name))
	switch {
	case current == name:
		fmt.Fprintf(f.Stderr, "The current profile is %q.\n", name)
	default:
		fmt.Fprintf(f.Stderr, "The current profile is still %q; `sesame profile use %s` switches to the new one.\n", current, name)
	}
	if env := f.Getenv("SESAME_PROFILE"); env != "" && env != current {
		fmt.Fprintf(f.Stderr, "In this shell SESAME_PROFILE=%s overrides it.\n", env)
	}
	return nil
}

// makeCurrent makes name the file's current profile when use asks for it
// or when there is none yet (the file names no current profile and has no
// "default", or names one it no longer has). A new profile otherwise
// leaves the current one alone: adding a profile must not redirect every
// later `sesame token`. It returns the current profile afterwards.
func makeCurrent(cfg *config.Config, name string, use bool) (string, error) {
	current := cfg.Current
	if current == "" {
		current = config.DefaultProfile
	}
	if !use && cfg.Has(current) || current == name {
		return current, nil
	}
	if err := config.SetCurrent(cfg.Path, name); err != nil {
		return "", err
	}
	return name, nil
}

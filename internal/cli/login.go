package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/login"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/term"
)

// LoginOptions are the inputs of `sesame login`.
type LoginOptions struct {
	F *Factory

	Issuer, ClientID                          string
	Scope                                     string
	Resources, Params                         []string
	Port                                      int
	NoBrowser, InsecureStorage, Device        bool
	NoPreflight, DPoP                         bool
	Timeout                                   time.Duration
	AuthURL, TokenURL, UserinfoURL, RevokeURL string
	Broker, Provider                          string
	Changed                                   func(flag string) bool
}

// NewCmdLogin builds `sesame login`; runF replaces the run function in tests.
func NewCmdLogin(f *Factory, runF func(context.Context, *LoginOptions) error) *cobra.Command {
	o := &LoginOptions{F: f}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in with the browser and store the tokens",
		Long: `Sign in with the system browser (authorization code flow with PKCE S256,
state and nonce; redirect to http://127.0.0.1:PORT/callback) and store the
verified tokens in the OS keychain. Flags given here are saved in the profile.

Before the browser opens, the authorization request is checked with the
provider (pushed to it, RFC 9126, when it offers that; else one GET of the
authorization URL), so that a client id or redirect URI it does not accept
fails at once with the fix. --no-preflight (no_preflight: true in the
profile) skips the check.`,
		Example: `  sesame login --issuer https://tenant.logto.app/oidc --client-id abc123
  sesame login --profile github --auth-url https://github.com/login/oauth/authorize \
    --token-url https://github.com/login/oauth/access_token --client-id Iv1.abc --scope "read:user"
  sesame login --resource https://api.example.com --param login_hint=alice@example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Changed = cmd.Flags().Changed
			if err := o.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return loginRun(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Issuer, "issuer", "", "OpenID Connect issuer URL (endpoints come from its discovery document)")
	fl.StringVar(&o.ClientID, "client-id", "", "OAuth client id (a public/native client)")
	fl.StringVar(&o.Scope, "scope", "", `scopes, space- or comma-separated (default "openid profile email offline_access")`)
	fl.StringArrayVar(&o.Resources, "resource", nil, "RFC 8707 resource indicator (repeatable)")
	fl.StringArrayVar(&o.Params, "param", nil, "extra authorization parameter k=v (repeatable), e.g. login_hint=alice")
	fl.IntVar(&o.Port, "port", 0, "loopback port for the redirect (default: a random free port)")
	fl.BoolVar(&o.NoBrowser, "no-browser", false, "do not open a browser; print the URL only")
	fl.BoolVar(&o.NoPreflight, "no-preflight", false, "do not check the client id and redirect URI with the provider before opening the browser")
	fl.BoolVar(&o.DPoP, "dpop", false, "bind the tokens to a key kept in the keychain (DPoP, RFC 9449; saved in the profile)")
	fl.BoolVar(&o.Device, "device", false, "sign in on another device with a code (RFC 8628), for SSH sessions and containers")
	fl.DurationVar(&o.Timeout, "timeout", login.DefaultTimeout, "how long to wait for the sign-in")
	fl.BoolVar(&o.InsecureStorage, "insecure-storage", false, "keep tokens in a 0600 file instead of the OS keychain (saved in the profile)")
	fl.StringVar(&o.Broker, "broker", "", "sesame-broker URL that exchanges codes and refreshes tokens for a confidential client")
	fl.StringVar(&o.Provider, "provider", "", "with --broker: sign in with this provider of the broker and get the broker's own session token (session mode)")
	fl.StringVar(&o.AuthURL, "auth-url", "", "authorization endpoint, for providers without discovery")
	fl.StringVar(&o.TokenURL, "token-url", "", "token endpoint, for providers without discovery")
	fl.StringVar(&o.UserinfoURL, "userinfo-url", "", "userinfo endpoint, for providers without discovery")
	fl.StringVar(&o.RevokeURL, "revocation-url", "", "revocation endpoint, for providers without discovery")
	return cmd
}

func loginRun(ctx context.Context, o *LoginOptions) error {
	f := o.F
	cfg, p, err := f.ProfileOrNew() // a login may create the profile and the file
	if err != nil {
		return err
	}
	saved, err := o.apply(&p)
	if err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return &FlagError{Err: err}
	}
	switch {
	case p.Provider != "" && p.Broker == "":
		return flagErrorf("--provider names a provider of a sesame-broker: pass --broker URL too")
	case p.Provider != "":
		// Session mode: the broker names the provider's issuer and client.
	case p.ClientID == "":
		return flagErrorf("no client id for profile %q: pass --client-id (it is saved in the profile)", p.Name)
	case p.Issuer == "" && (p.AuthURL == "" || p.TokenURL == ""):
		return flagErrorf("no provider for profile %q: pass --issuer, or --auth-url and --token-url for a plain OAuth 2.0 provider", p.Name)
	}
	if !o.Device && !o.NoBrowser && f.Headless() {
		return errors.New("no display or browser here (an SSH session or a container?), and the sign-in must come back to 127.0.0.1 on this machine.\n" +
			"Use `sesame login --device` to sign in on another device with a code, or --no-browser with SSH port forwarding (ssh -L 8765:127.0.0.1:8765 and --port 8765).")
	}
	sess := f.Session(p)
	// Find a missing or locked keychain now, not after the user signed in.
	// Nothing stored, or an entry too damaged to read, is a
	// LoginRequiredError: this login replaces it.
	if _, err := sess.Load(); err != nil {
		var lr *session.LoginRequiredError
		if !errors.As(err, &lr) {
			return err
		}
	}
	if err := sess.CheckLockDir(); err != nil {
		return err
	}
	lo, err := login.ForProfile(ctx, f.HTTP, p)
	if err != nil {
		return err
	}
	lo.Timeout, lo.NoBrowser, lo.Interactive = o.Timeout, o.NoBrowser, f.StderrIsTTY()
	lo.NoPreflight = lo.NoPreflight || o.NoPreflight
	if lo.Interactive {
		lo.Progress = f.RawStderr() // the elapsed time, rewritten in place
	}
	lo.Browser, lo.Stderr, lo.Now = f.Browser, f.Stderr, f.Now
	lo.Save = func(t *session.Tokens) error { return sess.SaveLogin(ctx, t) }
	run := login.Run
	if o.Device {
		run = login.Device
	}
	toks, err := run(ctx, lo)
	if err != nil {
		return err
	}
	// A new profile is written even when every setting came from SESAME_*
	// variables, so that the commands after it find it ("default" needs no
	// entry).
	if len(saved) > 0 || !cfg.Has(p.Name) && p.Name != config.DefaultProfile {
		if err := config.SaveProfile(cfg.Path, p.Name, saved); err != nil {
			return fmt.Errorf("logged in, but could not save the profile settings: %w", err)
		}
	}
	bound := ""
	if toks.Bound() {
		bound = ", bound to a DPoP key"
	}
	fmt.Fprintf(f.Stderr, "Logged in%s (profile %q, tokens in the %s%s).\n", identityText(toks), p.Name, backendText(sess.Store.Backend()), bound)
	return nil
}

// apply copies the flags that were given onto p and returns them in the
// shape config.SaveProfile stores.
func (o *LoginOptions) apply(p *config.Profile) (map[string]any, error) {
	set := map[string]any{}
	str := func(flag, key string, dst *string, v string) {
		if o.Changed(flag) {
			*dst, set[key] = v, v
		}
	}
	str("issuer", "issuer", &p.Issuer, o.Issuer)
	str("client-id", "client_id", &p.ClientID, o.ClientID)
	str("auth-url", "auth_url", &p.AuthURL, o.AuthURL)
	str("token-url", "token_url", &p.TokenURL, o.TokenURL)
	str("userinfo-url", "userinfo_url", &p.UserinfoURL, o.UserinfoURL)
	str("revocation-url", "revocation_url", &p.RevocationURL, o.RevokeURL)
	str("broker", "broker", &p.Broker, o.Broker)
	str("provider", "provider", &p.Provider, o.Provider)
	if o.Changed("scope") {
		p.Scopes = config.SplitList(o.Scope)
		set["scopes"] = p.Scopes
	}
	if o.Changed("resource") {
		p.Resources, set["resources"] = o.Resources, o.Resources
	}
	if o.Changed("param") {
		params, err := parseParams(o.Params)
		if err != nil {
			return nil, err
		}
		p.Params, set["params"] = params, params
	}
	if o.Changed("port") {
		p.Port, set["port"] = o.Port, o.Port
	}
	if o.Changed("dpop") {
		p.DPoP, set["dpop"] = o.DPoP, o.DPoP
	}
	if o.InsecureStorage {
		p.Storage, set["storage"] = "file", "file"
	}
	if err := login.CheckParams(p.Params); err != nil {
		return nil, &FlagError{Err: err}
	}
	return set, nil
}

// validate checks the flags on their own, before anything runs.
func (o *LoginOptions) validate() error {
	params, err := parseParams(o.Params)
	if err != nil {
		return err
	}
	if err := login.CheckParams(params); err != nil {
		return &FlagError{Err: err}
	}
	switch {
	case o.Port < 0 || o.Port > 65535:
		return flagErrorf("--port %d is out of range 0-65535 (0 picks a free port)", o.Port)
	case o.Timeout <= 0:
		return flagErrorf("--timeout %s must be positive", o.Timeout)
	case o.Device && (o.NoBrowser || o.Changed("port")):
		return flagErrorf("--device signs in on another device: --no-browser and --port do not apply")
	}
	return nil
}

func parseParams(kvs []string) (map[string]string, error) {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, flagErrorf("--param %q: want key=value", kv)
		}
		m[k] = v
	}
	return m, nil
}

func identityText(t *session.Tokens) string {
	if t.Identity == nil {
		return ""
	}
	who := t.Identity.Subject
	if t.Identity.Email != "" {
		who = t.Identity.Email
	}
	return " as " + term.Clean(who)
}

func backendText(b string) string {
	if b == "file" {
		return "plain file"
	}
	return "OS keychain"
}

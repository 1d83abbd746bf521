package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/doctor"
	"github.com/sesame-cli/sesame/internal/login"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/session"
)

// DoctorOptions are the inputs of `sesame doctor`.
type DoctorOptions struct {
	F      *Factory
	Issuer string
	Login  bool
	JSON   bool
}

// NewCmdDoctor builds `sesame doctor`.
func NewCmdDoctor(f *Factory, runF func(context.Context, *DoctorOptions) error) *cobra.Command {
	o := &DoctorOptions{F: f}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check a provider's configuration: discovery, endpoints, PKCE, keys, clock",
		Long: `Check the provider of the profile (or --issuer) and print a checklist, each
line ✓ (fine), ✗ (broken) or ! (worth knowing), with a remedy: the discovery
document and its issuer, HTTPS, endpoints, PKCE S256, grant and response
types, client authentication, RFC 9207 iss, scopes, the JWKS, ID token
algorithms and clock skew. --login also signs in (nothing is stored) and
times each step. Exits 0 when nothing is ✗.`,
		Example: `  sesame doctor --issuer https://tenant.logto.app/oidc
  sesame doctor --profile work --login
  sesame doctor --json | jq '.checks[] | select(.status != "ok")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return doctorRun(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.Issuer, "issuer", "", "issuer to check (default: the profile's)")
	cmd.Flags().BoolVar(&o.Login, "login", false, "also sign in with the profile and time each step (stores nothing)")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the report as JSON")
	return cmd
}

func doctorRun(ctx context.Context, o *DoctorOptions) error {
	f := o.F
	_, p, err := f.Profile()
	if err != nil {
		return err
	}
	if o.Issuer != "" {
		p.Issuer = o.Issuer
	}
	if p.Issuer == "" {
		return flagErrorf("nothing to check: pass --issuer, or use a profile with an issuer")
	}
	// A provider that does not answer is a finding, not a reason to wait.
	hc := &http.Client{Timeout: 10 * time.Second, Transport: f.HTTP.Transport}
	r := doctor.Run(ctx, doctor.Options{HTTP: hc, Issuer: p.Issuer, ClientID: p.ClientID, Confidential: p.Broker != "", Now: f.Now})
	if o.Login && r.OK {
		r.Items = append(r.Items, doctorLogin(ctx, f, p)...)
		r.OK = !slices.ContainsFunc(r.Items, func(it doctor.Item) bool { return it.Status == doctor.StatusFail })
	}
	if o.JSON {
		enc := json.NewEncoder(f.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		doctor.Render(f.HumanOut(), r, f.Color())
	}
	if !r.OK {
		return &SilentError{Code: ExitError}
	}
	return nil
}

// doctorLogin signs in with the profile without storing anything and
// reports each step's duration, then the claims received.
func doctorLogin(ctx context.Context, f *Factory, p config.Profile) []doctor.Item {
	fail := func(step string, err error) []doctor.Item {
		return []doctor.Item{{Status: doctor.StatusFail, Check: "login " + step, Detail: err.Error(), Remedy: "see the checks above, and the provider's logs"}}
	}
	if p.ClientID == "" {
		return fail("setup", fmt.Errorf("the profile has no client_id"))
	}
	var mu sync.Mutex
	var steps []doctor.Item
	step := func(name string, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		steps = append(steps, doctor.Item{Status: doctor.StatusOK, Check: "login " + name, Detail: d.Round(time.Millisecond).String()})
	}
	start := time.Now()
	ep, err := provider.Resolve(ctx, f.HTTP, endpointsOf(p))
	if err != nil {
		return fail("discovery", err)
	}
	step("discovery", time.Since(start))
	scopes := p.Scopes
	if len(scopes) == 0 {
		scopes = defaultOIDCScopes
	}
	var got *session.Tokens
	_, err = login.Run(ctx, login.Options{
		Endpoints: ep, ClientID: p.ClientID, Scopes: scopes, Resources: p.Resources, Params: p.Params,
		Port: p.Port, Timeout: 5 * time.Minute, Browser: f.Browser, Stderr: f.Stderr, HTTP: f.HTTP, Now: f.Now,
		TokenURL: brokerURL(p.Broker, "/token"), Trace: step,
		Save: func(t *session.Tokens) error { got = t; return nil },
	})
	if err != nil {
		return append(steps, fail("flow", err)...)
	}
	if ep.Userinfo != "" {
		start = time.Now()
		resp, err := provider.Userinfo(ctx, f.HTTP, ep.Userinfo, got.AccessToken)
		switch {
		case err != nil:
			steps = append(steps, doctor.Item{Status: doctor.StatusFail, Check: "login userinfo", Detail: err.Error()})
		case resp.Status != http.StatusOK:
			steps = append(steps, doctor.Item{Status: doctor.StatusFail, Check: "login userinfo", Detail: fmt.Sprintf("HTTP %d", resp.Status)})
		default:
			step("userinfo", time.Since(start))
		}
	}
	claims := []string{}
	if id := got.Identity; id != nil {
		for k, v := range map[string]string{"sub": id.Subject, "name": id.Name, "email": id.Email, "preferred_username": id.Username} {
			if v != "" {
				claims = append(claims, k+"="+v)
			}
		}
	}
	slices.Sort(claims)
	detail := "scope " + got.Scope
	if len(claims) > 0 {
		detail = strings.Join(claims, " ") + "; " + detail
	}
	return append(steps, doctor.Item{Status: doctor.StatusOK, Check: "login claims", Detail: detail})
}

package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/doctor"
	"github.com/sesame-cli/sesame/internal/login"
)

// DoctorOptions are the inputs of `sesame doctor`.
type DoctorOptions struct {
	F        *Factory
	Issuer   string
	ClientID string
	Login    bool
	JSON     bool
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
algorithms and clock skew. With a client id (--client-id or the profile's)
it also asks the provider whether it accepts that client and its redirect
URI, with the check a login makes before opening the browser. --login also
signs in (nothing is stored) and times each step. Exits 0 when nothing is ✗.`,
		Example: `  sesame doctor --issuer https://tenant.logto.app/oidc
  sesame doctor --issuer https://tenant.logto.app/oidc --client-id abc123
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
	cmd.Flags().StringVar(&o.ClientID, "client-id", "", "client to check with the provider, with its redirect URI (default: the profile's)")
	cmd.Flags().BoolVar(&o.Login, "login", false, "also sign in with the profile and time each step (stores nothing)")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the report as JSON")
	return cmd
}

func doctorRun(ctx context.Context, o *DoctorOptions) error {
	f := o.F
	load := f.Profile
	if o.Issuer != "" {
		load = f.ProfileOrNew // checking a provider before there is a profile for it
	}
	_, p, err := load()
	if err != nil {
		return err
	}
	if o.Issuer != "" {
		p.Issuer = o.Issuer
	}
	if o.ClientID != "" {
		p.ClientID = o.ClientID
	}
	if p.Issuer == "" {
		return flagErrorf("nothing to check: pass --issuer, or use a profile with an issuer")
	}
	// A provider that does not answer is a finding, not a reason to wait.
	hc := &http.Client{Timeout: 10 * time.Second, Transport: f.HTTP.Transport}
	r := doctor.Run(ctx, doctor.Options{HTTP: hc, Issuer: p.Issuer, ClientID: p.ClientID, Confidential: p.Broker != "", DPoP: p.DPoP, Now: f.Now})
	if p.ClientID != "" && r.Items[0].Status == doctor.StatusOK { // the discovery document was read
		r.Add(doctor.Client(ctx, hc, p))
	}
	if o.Login && r.OK {
		ui := login.Options{Browser: f.Browser, Stderr: f.Stderr, Now: f.Now, Interactive: f.StderrIsTTY()}
		if ui.Interactive {
			ui.Progress = f.RawStderr()
		}
		r.Add(doctor.Login(ctx, f.HTTP, p, ui)...)
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

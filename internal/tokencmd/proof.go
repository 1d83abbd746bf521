package tokencmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/cmdutil"
	"github.com/sesame-cli/sesame/internal/dpop"
	"github.com/sesame-cli/sesame/internal/session"
)

// ProofOptions are the inputs of `sesame proof`.
type ProofOptions struct {
	F      *cmdutil.Factory
	Method string
	URL    string
	Nonce  string
}

// NewCmdProof builds `sesame proof`.
func NewCmdProof(f *cmdutil.Factory, runF func(context.Context, *ProofOptions) error) *cobra.Command {
	o := &ProofOptions{F: f}
	cmd := &cobra.Command{
		Use:   "proof METHOD URL",
		Short: "Print a one-time DPoP proof for a request with the profile's token",
		Long: `Print a DPoP proof (RFC 9449) for one request: METHOD and URL, bound to the
profile's current access token (ath) and signed with the login's key, which
stays in the keychain. A proof is good for one request; make a new one for
each. The token is refreshed first when due, exactly as ` + "`sesame token`" + ` does, so
both print what belongs together. --nonce adds a nonce the server asked for
(its DPoP-Nonce header). Needs a login with --dpop; exits 4 otherwise.`,
		Example: `  curl -H "Authorization: DPoP $(sesame token)" \
    -H "DPoP: $(sesame proof GET https://api.example.com/me)" https://api.example.com/me`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Method, o.URL = args[0], args[1]
			if err := o.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return proofRun(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.Nonce, "nonce", "", "the server's DPoP-Nonce, when it asks for one")
	return cmd
}

// validate checks the arguments before anything is read: a proof for a
// URL the server would never match is a usage mistake.
func (o *ProofOptions) validate() error {
	if o.Method == "" || strings.ToUpper(o.Method) != o.Method || strings.ContainsFunc(o.Method, func(r rune) bool { return r < 'A' || r > 'Z' }) {
		return cmdutil.FlagErrorf("METHOD %q: want an HTTP method in capitals, such as GET or POST", o.Method)
	}
	if _, err := dpop.HTU(o.URL); err != nil {
		return cmdutil.FlagErrorf("URL: %v", err)
	}
	if o.Nonce != "" && !dpop.ValidNonce(o.Nonce) {
		return cmdutil.FlagErrorf("--nonce: not a nonce a server can send (RFC 9449 §8.1: printable ASCII without quotes or backslashes)")
	}
	return nil
}

func proofRun(ctx context.Context, o *ProofOptions) error {
	_, p, err := o.F.Profile()
	if err != nil {
		return err
	}
	t, err := o.F.Session(p).Fresh(ctx, defaultMinTTL, false)
	if err != nil {
		return err
	}
	key, err := t.Key()
	if err != nil {
		return err
	}
	if key == nil {
		return &session.LoginRequiredError{Profile: p.Name, Reason: "the login's tokens are not bound to a DPoP key; log in with --dpop"}
	}
	proof, err := key.Proof(dpop.ProofClaims{Method: o.Method, URL: o.URL, AccessToken: t.AccessToken, Nonce: o.Nonce, Now: realNow(o.F.Now)})
	if err != nil {
		return fmt.Errorf("make the proof: %w", err)
	}
	_, err = fmt.Fprintln(o.F.Stdout, proof)
	return err
}

// realNow is the factory's clock, or the system's.
func realNow(now func() time.Time) time.Time {
	if now == nil {
		return time.Now()
	}
	return now()
}

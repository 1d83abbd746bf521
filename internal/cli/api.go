package cli

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/api"
	"github.com/sesame-cli/sesame/internal/cmdutil"
	"github.com/sesame-cli/sesame/internal/session"
)

// APIOptions are the inputs of `sesame api`.
type APIOptions struct {
	F *Factory

	Target        string
	Method        string
	Headers       []string
	Data          string
	Fields        []string
	Form          bool
	Include       bool
	JQ            string
	Paginate      bool
	Silent        bool
	Resource, Org string
}

// NewCmdAPI builds `sesame api`.
func NewCmdAPI(f *Factory, runF func(context.Context, *APIOptions) error) *cobra.Command {
	o := &APIOptions{F: f}
	cmd := &cobra.Command{
		Use:   "api [flags] URL|PATH",
		Short: "Make an authenticated HTTP request and print the response",
		Long: `Send one HTTP request with the profile's access token and print the response
body on stdout. A PATH is resolved against the profile's api_url
(SESAME_API_URL). The token is refreshed first when due; when the server
refuses it (HTTP 401, or 403 with error="invalid_token"), sesame refreshes
once and sends the request once more (a body from stdin is kept for that up
to 8 MiB; a larger one is streamed once and not sent again). With a DPoP-bound login (login --dpop) every request carries a fresh
proof, and a server's nonce challenge is answered.

Requests go only to https URLs or to http on a loopback address, and
redirects are followed only within the same origin, so the token never
reaches another server. Exits 0 on a 2xx answer; 1 on any other status (the
status line on stderr, the body still on stdout); 4 when a login is needed.`,
		Example: `  sesame api https://api.example.com/me
  sesame api -X POST /items -F name=widget -F count=3
  sesame api /items --paginate --jq '.[].id'
  sesame api --resource https://api.example.com -H 'Accept: text/csv' /report -d @query.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Target = args[0]
			if o.Resource != "" && o.Org != "" {
				return cmdutil.FlagErrorf("--resource and --org cannot be combined")
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return apiRun(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.Method, "method", "X", "", "HTTP method (default GET, or POST with a body)")
	fl.StringArrayVarP(&o.Headers, "header", "H", nil, `request header "Name: value" (repeatable)`)
	fl.StringVarP(&o.Data, "data", "d", "", "request body: a string, @FILE, or @- for stdin")
	fl.StringArrayVarP(&o.Fields, "field", "F", nil, "key=value for a JSON body (repeatable; numbers, true, false and null keep their JSON type)")
	fl.BoolVar(&o.Form, "form", false, "send --field values as application/x-www-form-urlencoded")
	fl.BoolVarP(&o.Include, "include", "i", false, "print the status line and response headers before the body")
	fl.StringVarP(&o.JQ, "jq", "q", "", "filter a JSON response with a jq expression")
	fl.BoolVar(&o.Paginate, "paginate", false, `follow Link: rel="next" and print every page`)
	fl.BoolVar(&o.Silent, "silent", false, "do not print the response body")
	fl.StringVar(&o.Resource, "resource", "", "use the token for this RFC 8707 resource")
	fl.StringVar(&o.Org, "org", "", "use the token for this organization")
	cmd.RegisterFlagCompletionFunc("org", cmdutil.CompleteOrgs(f))
	return cmd
}

// apiMinTTL is how long the token must still be valid when a request
// starts, as for `sesame token`.
const apiMinTTL = 60 * time.Second

func apiRun(ctx context.Context, o *APIOptions) error {
	f := o.F
	_, p, err := f.Profile()
	if err != nil {
		return err
	}
	sess := f.Session(p)
	// The key, and so the client that signs the proofs, belongs to the
	// login: a refresh keeps it.
	t, err := sess.Load()
	if err != nil {
		return err
	}
	hc, err := sess.HTTPFor(t)
	if err != nil {
		return err
	}
	// The body is streamed for as long as it takes (a download, a slow
	// export): no overall deadline; Ctrl-C ends it. Connecting and the
	// response headers keep the transport's own limits.
	streaming := *hc
	streaming.Timeout = 0
	hc = &streaming
	target := session.Target{Resource: o.Resource, Org: o.Org}
	// The token of the previous request serves the next (pages of
	// --paginate) while it stays valid for apiMinTTL: one keychain read,
	// not one per request. The login just loaded is the first.
	var last api.Token
	var lastExp time.Time
	if target.IsBase() {
		last, lastExp = api.Token{Value: t.AccessToken, Type: session.AuthScheme(t.TokenType)}, t.Expiry
	}
	source := func(ctx context.Context, renew bool) (api.Token, error) {
		if !renew && last.Value != "" && !lastExp.IsZero() && lastExp.After(f.Now().Add(apiMinTTL)) {
			return last, nil
		}
		if target.IsBase() {
			t, err := sess.Fresh(ctx, apiMinTTL, renew)
			if err != nil {
				return api.Token{}, err
			}
			last, lastExp = api.Token{Value: t.AccessToken, Type: session.AuthScheme(t.TokenType)}, t.Expiry
			return last, nil
		}
		d, err := sess.FreshFor(ctx, target, apiMinTTL, renew)
		if err != nil {
			return api.Token{}, err
		}
		last, lastExp = api.Token{Value: d.AccessToken, Type: session.AuthScheme(d.TokenType)}, d.Expiry
		return last, nil
	}
	err = api.Run(ctx, api.Options{
		Method: o.Method, Target: o.Target, BaseURL: p.APIURL,
		Headers: o.Headers, Data: o.Data, Fields: o.Fields, Form: o.Form,
		Include: o.Include, JQ: o.JQ, Paginate: o.Paginate, Silent: o.Silent,
		Stdin: f.Stdin, Stdout: f.Stdout, Stderr: f.Stderr, StdoutTTY: f.StdoutIsTTY(),
		HTTP: hc, Token: source,
	})
	var se *api.StatusError
	var ue *api.UsageError
	switch {
	case errors.As(err, &se):
		return &cmdutil.SilentError{Code: cmdutil.ExitError} // the status line is on stderr already
	case errors.As(err, &ue):
		return &cmdutil.FlagError{Err: ue.Err}
	}
	return err
}

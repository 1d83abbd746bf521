// Package api makes the authenticated HTTP requests of `sesame api`: one
// request (or, with Paginate, a chain of them) with the profile's access
// token, the response body on stdout, the way `gh api` works.
//
// The token is the secret here, and everything the server sends is
// attacker-chosen when the server, the network or a proxy is hostile. So
// a request goes only to https (or http on a loopback host, which never
// leaves the machine), a redirect or a next-page link is followed only
// within the origin the user named (RFC 6454 §4), and text from the server
// shown on a terminal passes term's sanitiser.
package api

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/sesame-cli/sesame/internal/term"
)

// Token is an access token and its type as the token endpoint gave it
// (RFC 6749 §5.1); Type is "Bearer" (RFC 6750) or "DPoP" (RFC 9449), in
// any case, and empty means Bearer.
type Token struct{ Value, Type string }

// TokenSource returns the token to send. renew is true after the server
// refused the token it returned before: the source must not hand out the
// same one again (it refreshes). Its errors reach Run's caller unchanged,
// so a login-required error keeps its exit code.
type TokenSource func(ctx context.Context, renew bool) (Token, error)

// Options are the inputs of one `sesame api` run; the comments name the
// flags. Run validates them all before it fetches a token.
type Options struct {
	// Method is -X. The default is GET, or POST when there is a body
	// (Data, or Fields that are not sent as a query string).
	Method string
	// Target is a URL, or a path resolved under BaseURL: BaseURL's path is
	// kept and the path's leading slashes are not special, so
	// "https://api.example/v1/" with "users" or "/users" is
	// https://api.example/v1/users, as gh joins a path to its API root.
	// Only "scheme://" makes a URL, so "things:batchGet" is a path.
	Target  string
	BaseURL string // the profile's api_url
	// Headers are -H "Name: value" lines, each added to the request. The
	// profile supplies Authorization and DPoP, and the URL the Host, so
	// those are refused. A Content-Type or Accept here replaces the default.
	Headers []string
	// Data is -d: a string, "@file" (read again when the request is sent
	// again) or "@-" for Stdin (sent once). Empty means no body. Its
	// Content-Type is application/json unless Form is set or Headers name one.
	Data string
	// Fields are -F key=value pairs that make a JSON object body:
	// true, false, null and JSON numbers become JSON values, "@file" puts
	// the file's text ("@-" Stdin's), anything else is a string. A key given
	// twice is an error rather than a silent choice. With Method GET or
	// HEAD the fields become the query string instead, as with gh.
	Fields []string
	// Form sends Fields as application/x-www-form-urlencoded (values as
	// given, no JSON types), and labels Data so too.
	Form bool
	// Include is -i: the status line and the response headers go to
	// Stdout before each body.
	Include bool
	// JQ is a jq filter (gojq) applied to each 2xx JSON body: strings
	// print raw, other values as compact JSON, one a line. A non-2xx body
	// prints unfiltered, as it is seldom the shape the filter expects.
	JQ string
	// Paginate follows Link rel="next" (RFC 8288) with GET, within the
	// origin, until a page has none.
	Paginate bool
	// Silent drops the response bodies; Include still prints the headers.
	Silent bool

	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// StdoutTTY says Stdout is a terminal: what the server sent is then
	// sanitised, since its bytes must not drive the terminal. Scripts get
	// the bytes as sent.
	StdoutTTY bool
	// HTTP is the caller's client (its Transport may add DPoP proofs or
	// log). Run uses a copy with its own redirect rule; a nil HTTP means
	// http.DefaultTransport without a timeout.
	HTTP  *http.Client
	Token TokenSource
}

// StatusError is a response with a status other than 2xx. Run has
// already written its status line on Stderr and its body on Stdout, so
// the caller exits 1 without printing it again.
type StatusError struct {
	Status int    // the HTTP status code
	Line   string // "HTTP 404 Not Found", sanitised
}

func (e *StatusError) Error() string { return e.Line }

// UsageError is Options that cannot make a request (a malformed header,
// field or target, a --jq expression that does not compile): a mistake in
// the command line, for exit code 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Run makes the request, or the pages of it, and prints the responses. It
// returns nil when every response was 2xx, a *StatusError for one that was
// not (the last one made), a *UsageError for Options that make no request,
// the TokenSource's errors unchanged, and other errors with their context.
func Run(ctx context.Context, o Options) error {
	if o.Token == nil {
		return errors.New("api: no token source")
	}
	stdout, stderr := o.Stdout, o.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	if o.StdoutTTY {
		stdout = term.NewWriter(stdout)
	}
	r := &runner{o: o, hc: client(o.HTTP, stderr), stdout: stdout, stderr: stderr}
	var err error
	if o.JQ != "" {
		if r.jq, err = compileJQ(o.JQ); err != nil {
			return err
		}
	}
	req, err := prepare(o)
	if err != nil {
		return err
	}
	return r.pages(ctx, req)
}

// runner holds what one Run shares between its requests.
type runner struct {
	o      Options
	hc     *http.Client
	jq     *filter
	stdout io.Writer // sanitised when Stdout is a terminal
	stderr io.Writer
}

package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// defaultAccept asks for JSON, which --jq reads, without refusing the
// rest: an API that only speaks something else still answers.
const defaultAccept = "application/json, */*;q=0.1"

// request is the first request of a run, checked and ready to send.
type request struct {
	method string
	url    *url.URL
	header http.Header // the caller's and Accept; Content-Type comes with the body
	body   *body       // nil for none
}

// prepare turns Options into the first request, refusing what cannot be
// sent before any token is fetched.
func prepare(o Options) (*request, error) {
	u, err := target(o.Target, o.BaseURL)
	if err != nil {
		return nil, err
	}
	h, err := parseHeaders(o.Headers)
	if err != nil {
		return nil, err
	}
	if o.Data != "" && len(o.Fields) > 0 {
		return nil, usagef("give the body with -d or with -F fields, not both")
	}
	method := strings.ToUpper(o.Method)
	if method != "" && !isToken(method) {
		return nil, usagef("-X %q is not an HTTP method", o.Method)
	}
	r := &request{method: method, url: u, header: h}
	switch {
	case len(o.Fields) > 0 && (method == http.MethodGet || method == http.MethodHead):
		q, err := fieldsQuery(o.Fields, o.Stdin)
		if err != nil {
			return nil, err
		}
		if u.RawQuery != "" {
			q = u.RawQuery + "&" + q
		}
		u.RawQuery = q
	case len(o.Fields) > 0:
		r.body, err = fieldsBody(o.Fields, o.Form, o.Stdin)
	case o.Data != "":
		r.body, err = dataBody(o.Data, o.Form, o.Stdin)
	}
	if err != nil {
		return nil, err
	}
	if r.method == "" {
		r.method = http.MethodGet
		if r.body != nil {
			r.method = http.MethodPost
		}
	}
	if h.Get("Accept") == "" {
		h.Set("Accept", defaultAccept)
	}
	return r, nil
}

// target resolves Target: a URL as given, a path under base. Either way
// the result passes httpx.CheckEndpoint, since the token goes there.
func target(t, base string) (*url.URL, error) {
	if t == "" {
		return nil, usagef("give a URL or a path to request")
	}
	raw := t
	if !hasScheme(t) {
		if base == "" {
			return nil, &NoBaseError{Path: t}
		}
		if err := httpx.CheckEndpoint(base); err != nil {
			return nil, fmt.Errorf("the profile's api_url: %w", err)
		}
		if strings.Contains(base, "?") {
			return nil, fmt.Errorf("the profile's api_url %q must not have a query", base)
		}
		raw = strings.TrimRight(base, "/") + "/" + strings.TrimLeft(t, "/")
	}
	if err := httpx.CheckEndpoint(raw); err != nil {
		return nil, &UsageError{Err: err}
	}
	return url.Parse(raw)
}

// hasScheme reports a target that starts with "scheme://" (RFC 3986
// §3.1); anything else, "things:batchGet" or "search?q=https://x"
// included, is a path.
func hasScheme(t string) bool {
	i := strings.Index(t, "://")
	if i <= 0 {
		return false
	}
	for j := 0; j < i; j++ {
		c := t[j]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (j == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// NoBaseError is a path to request with no api_url to put it under.
type NoBaseError struct{ Path string }

func (e *NoBaseError) Error() string {
	return fmt.Sprintf("%q is a path, and the profile has no api_url to resolve it against", e.Path)
}

// Hint says the two ways out.
func (e *NoBaseError) Hint() string {
	return "Give a full https:// URL, or set api_url in the profile."
}

// parseHeaders reads "Name: value" lines. A value may be empty; a line
// that net/http would refuse, or silently drop, is refused here with the
// reason.
func parseHeaders(lines []string) (http.Header, error) {
	h := http.Header{}
	for _, line := range lines {
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case !ok || !isToken(name):
			return nil, usagef(`-H %q: a header is "Name: value"`, line)
		case !validValue(value):
			return nil, usagef("-H %q: a header value cannot hold control characters", line)
		case strings.EqualFold(name, "Authorization") || strings.EqualFold(name, "DPoP"):
			return nil, usagef("-H %s: sesame sends the profile's token in Authorization (and DPoP) itself", name)
		case strings.EqualFold(name, "Host"):
			return nil, usagef("-H Host: the URL sets the host; the token goes only there")
		}
		h.Add(name, value)
	}
	return h, nil
}

// isToken reports an RFC 9110 §5.6.2 token: a header name or a method.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validValue reports a header value without control characters other
// than tab (RFC 9110 §5.5).
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// authorization is the Authorization value for t (RFC 6750 §2.1,
// RFC 9449 §7.1). The errors never quote the token.
func authorization(t Token) (string, error) {
	typ := "Bearer"
	switch {
	case t.Type == "" || strings.EqualFold(t.Type, "Bearer"):
	case strings.EqualFold(t.Type, "DPoP"):
		typ = "DPoP"
	default:
		return "", fmt.Errorf("the access token's type %q is not one sesame can send (Bearer or DPoP)", t.Type)
	}
	if t.Value == "" || !validValue(t.Value) || strings.ContainsAny(t.Value, " \t") {
		return "", errors.New("the access token is empty or not a value an Authorization header can carry")
	}
	return typ + " " + t.Value, nil
}

func usagef(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

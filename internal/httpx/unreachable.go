package httpx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
)

// UnreachableError is a request that got no HTTP answer at all: the host
// name does not resolve, nothing listens, the connection is cut or times
// out, or the server speaks plain HTTP where https was asked for. What
// net/http says ("Get \"https://…\": dial tcp: lookup idp.example on
// 10.0.0.53:53: no such host") names the URL twice and the cause in its
// own words; this names the URL once and the cause plainly, and its Hint
// says what to check.
type UnreachableError struct {
	// What names the endpoint ("the token endpoint"), or is empty.
	What string
	URL  string // scheme, host and path: a query may carry a secret
	// Reason is the cause in a few words: "connection refused".
	Reason string
	// Speaks is the scheme the server turned out to speak when it is not
	// the URL's: "http" for an https URL, "https" for an http one.
	Speaks string
	Err    error
}

func (e *UnreachableError) Error() string {
	what := e.URL
	if e.What != "" {
		what = e.What + " " + e.URL
	}
	return fmt.Sprintf("could not reach %s: %s", what, e.Reason)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Hint says what to check: the scheme and port for a server that speaks
// plain HTTP; otherwise the URL, the network (a VPN, a proxy) and
// `sesame doctor`, which checks a provider step by step.
func (e *UnreachableError) Hint() string {
	switch e.Speaks {
	case "http":
		return "Check the port; use http:// only for a provider on this machine (sesame sends tokens over https everywhere else)."
	case "https":
		return "Use " + SchemeSwapped(e.URL) + " instead."
	}
	doctor := "`sesame doctor`"
	if issuer, ok := strings.CutSuffix(e.URL, "/.well-known/openid-configuration"); ok {
		doctor = "`sesame doctor --issuer " + issuer + "`"
	}
	return "Check the URL and your network: a VPN you need to be on, or a proxy (HTTPS_PROXY); " + doctor + " checks the provider step by step."
}

// Unreachable returns err as an *UnreachableError when it is a request
// that got no answer (a *url.Error around a network failure), naming the
// endpoint what; otherwise it returns nil. A certificate that does not
// verify is an answer, and not this error: the network is fine, the
// server is not who it should be.
func Unreachable(err error, what string) *UnreachableError {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return nil
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil {
		return nil
	}
	e := &UnreachableError{What: what, URL: (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String(), Err: ue.Err}
	var dns *net.DNSError
	var rh tls.RecordHeaderError
	var ne net.Error
	switch cause := ue.Err; {
	case errors.As(cause, &dns) && dns.IsNotFound:
		e.Reason = fmt.Sprintf("the host name %s does not resolve", u.Hostname())
	case errors.As(cause, &dns):
		e.Reason = fmt.Sprintf("the DNS lookup of %s failed (%s)", u.Hostname(), dns.Err)
	case errors.Is(cause, syscall.ECONNREFUSED):
		e.Reason = fmt.Sprintf("connection refused (nothing listens on %s)", hostPort(u))
	case errors.Is(cause, syscall.ECONNRESET):
		e.Reason = "the connection was reset"
	case errors.Is(cause, syscall.EHOSTUNREACH), errors.Is(cause, syscall.ENETUNREACH):
		e.Reason = "no route to the host"
	case errors.As(cause, &rh) || strings.Contains(cause.Error(), "server gave HTTP response to HTTPS client"):
		e.Reason, e.Speaks = fmt.Sprintf("the server at %s speaks plain HTTP, not HTTPS", hostPort(u)), "http"
	case u.Scheme == "http" && strings.Contains(cause.Error(), `malformed HTTP response "\x15\x03`):
		// A TLS alert record: the server wanted a TLS handshake.
		e.Reason, e.Speaks = fmt.Sprintf("the server at %s speaks HTTPS, not plain HTTP", hostPort(u)), "https"
	case errors.Is(cause, context.DeadlineExceeded), errors.As(cause, &ne) && ne.Timeout():
		e.Reason = "no answer in time"
	case errors.Is(cause, io.EOF), errors.Is(cause, io.ErrUnexpectedEOF):
		e.Reason = "the server closed the connection without an answer"
	default:
		var op *net.OpError
		if !errors.As(cause, &op) {
			return nil
		}
		e.Reason = op.Err.Error()
	}
	return e
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "http" {
		return u.Host + ":80"
	}
	return u.Host + ":443"
}

// HTTPSOnly recognises the answer of an HTTPS server to a plain HTTP
// request: a 400 whose body says so (Go's net/http, nginx).
func HTTPSOnly(status int, body []byte) bool {
	b := string(body)
	return status == 400 && (strings.Contains(b, "HTTP request to an HTTPS server") ||
		strings.Contains(b, "plain HTTP request was sent to HTTPS port"))
}

// SchemeSwapped is u with http and https exchanged.
func SchemeSwapped(u string) string {
	if rest, ok := strings.CutPrefix(u, "http://"); ok {
		return "https://" + rest
	}
	if rest, ok := strings.CutPrefix(u, "https://"); ok {
		return "http://" + rest
	}
	return u
}

// WrongScheme is the error for a server at u that answered, but speaks the
// other scheme (see HTTPSOnly).
func WrongScheme(u, speaks string) *UnreachableError {
	p, err := url.Parse(u)
	if err != nil {
		return &UnreachableError{URL: u, Reason: "the server speaks " + speaks, Speaks: speaks}
	}
	return &UnreachableError{URL: (&url.URL{Scheme: p.Scheme, Host: p.Host, Path: p.Path}).String(), Speaks: speaks,
		Reason: fmt.Sprintf("the server at %s speaks %s, not %s", hostPort(p), strings.ToUpper(speaks), map[string]string{"https": "plain HTTP", "http": "HTTPS"}[speaks])}
}

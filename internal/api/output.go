package api

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sesame-cli/sesame/internal/term"
)

// print writes one response: with Include its status line and headers,
// then its body (filtered by --jq when 2xx), unless Silent. A status
// other than 2xx also goes to stderr as one line, after the body, and
// makes a *StatusError.
func (r *runner) print(ctx context.Context, resp *http.Response) error {
	if r.o.Include {
		if err := r.printHeaders(resp); err != nil {
			return err
		}
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	var err error
	switch {
	case r.o.Silent:
	case ok && r.jq != nil:
		err = r.jq.apply(ctx, resp.Body, r.stdout)
	default:
		err = copyBody(r.stdout, resp.Body)
	}
	if ok {
		return err
	}
	line := statusLine(resp)
	fmt.Fprintln(r.stderr, line)
	if err != nil {
		return err
	}
	return &StatusError{Status: resp.StatusCode, Line: line}
}

// statusLine is "HTTP 404 Not Found"; the reason phrase is the server's
// own text, so it is cleaned.
func statusLine(resp *http.Response) string {
	s := strings.TrimSpace(resp.Status)
	if s == "" {
		s = fmt.Sprint(resp.StatusCode)
	}
	return "HTTP " + term.Clean(s)
}

// printHeaders writes the status line and the headers, sorted by name,
// and a blank line, as gh does. They are the server's text: on a
// terminal each value becomes one inert line.
func (r *runner) printHeaders(resp *http.Response) error {
	clean := func(s string) string { return s }
	if r.o.StdoutTTY {
		clean = term.Clean
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", clean(resp.Proto), clean(resp.Status))
	for _, name := range slices.Sorted(maps.Keys(resp.Header)) {
		for _, v := range resp.Header[name] {
			fmt.Fprintf(&b, "%s: %s\n", clean(name), clean(v))
		}
	}
	b.WriteString("\n")
	if _, err := io.WriteString(r.stdout, b.String()); err != nil {
		return fmt.Errorf("could not write the response headers: %w", err)
	}
	return nil
}

// copyBody streams a body to w as it arrives, telling a response that
// broke off from output that could not be written.
func copyBody(w io.Writer, body io.Reader) error {
	rd := &readErr{r: body}
	if _, err := io.Copy(w, rd); err != nil {
		if rd.err != nil {
			return fmt.Errorf("the response broke off: %w", term.CleanError(rd.err))
		}
		return fmt.Errorf("could not write the response: %w", err)
	}
	return nil
}

// readErr remembers the error of its reader.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// noteStdinRedirect explains a 307 or 308 within the origin that was not
// followed: net/http does not follow it without a body to send again.
func (r *runner) noteStdinRedirect(resp *http.Response, b *body) {
	if b == nil || !b.stdin || (resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusPermanentRedirect) {
		return
	}
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" || !sameOrigin(loc, resp.Request.URL) {
		return
	}
	fmt.Fprintln(r.stderr, "not following the redirect: the request body came from standard input and cannot be sent again")
}

// origin is scheme://host[:port] of u, cleaned, for messages.
func origin(u *url.URL) string {
	return term.Clean(u.Scheme + "://" + u.Host)
}

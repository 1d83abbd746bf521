package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// maxPages bounds a pagination: no real listing has more, and a server
// that makes up next links forever must not keep sesame running.
const maxPages = 10000

// pages sends the first request and, with Paginate, GETs each page its
// response links to as "next", within the first request's origin, until
// a page has no next link, a page is not 2xx, or a link leads to a page
// already fetched. The following pages carry no body: a link is a
// resource to GET (RFC 8288 §2).
func (r *runner) pages(ctx context.Context, req *request) error {
	method, u, b := req.method, req.url, req.body
	seen := map[string]bool{u.String(): true}
	for page := 1; ; page++ {
		resp, err := r.send(ctx, method, u, req.header, b)
		if err != nil {
			return err
		}
		r.noteStdinRedirect(resp, b)
		err = r.print(ctx, resp)
		resp.Body.Close()
		if err != nil || !r.o.Paginate {
			return err
		}
		next, err := nextPage(resp, req.url)
		switch {
		case err != nil || next == nil:
			return err
		case seen[next.String()]:
			return fmt.Errorf("the next page link of page %d leads back to a page already fetched; sesame stopped", page)
		case page == maxPages:
			return fmt.Errorf("sesame stopped after %d pages; the server still links to a next one", maxPages)
		}
		seen[next.String()] = true
		method, u, b = http.MethodGet, next, nil
	}
}

// nextPage is the next link of resp resolved against the URL that
// answered, or nil for none. It must stay within first's origin: the
// server chose the link, and the token goes with the request.
func nextPage(resp *http.Response, first *url.URL) (*url.URL, error) {
	ref, ok := nextLink(resp.Header)
	if !ok {
		return nil, nil
	}
	next, err := resp.Request.URL.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("the next page link %q is not a URL", ref)
	}
	if !sameOrigin(next, first) {
		return nil, fmt.Errorf("the next page is at another origin, %s; sesame sends the token only to %s, so it stopped", origin(next), origin(first))
	}
	next.Fragment, next.RawFragment = "", ""
	return next, nil
}

// nextLink returns the target of the first link with relation type
// "next" in the Link headers (RFC 8288 §3): `<target>; rel="next"`, links
// separated by commas, rel a list of types matched without case, and
// only the first rel of a link counted (§3.3). A link it cannot read
// ends the reading of that header.
func nextLink(h http.Header) (string, bool) {
	for _, v := range h.Values("Link") {
		s := v
		for {
			s = strings.TrimLeft(s, " \t,")
			if !strings.HasPrefix(s, "<") {
				break
			}
			end := strings.IndexByte(s, '>')
			if end < 0 {
				break
			}
			ref := s[1:end]
			rels, rest, ok := linkParams(s[end+1:])
			for _, rel := range strings.Fields(rels) {
				if strings.EqualFold(rel, "next") {
					return ref, true
				}
			}
			if !ok {
				break
			}
			s = rest
		}
	}
	return "", false
}

// linkParams reads the `; name=value` parameters of one link up to the
// comma that ends it, returning its first rel, what follows, and whether
// the parameters were well formed.
func linkParams(s string) (rel, rest string, ok bool) {
	relSeen := false
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" || s[0] == ',' {
			return rel, s, true
		}
		if s[0] != ';' {
			return rel, s, false
		}
		s = strings.TrimLeft(s[1:], " \t")
		i := strings.IndexAny(s, "=;, \t")
		if i < 0 {
			i = len(s)
		}
		name := s[:i]
		s = strings.TrimLeft(s[i:], " \t")
		var value string
		if strings.HasPrefix(s, "=") {
			value, s, ok = paramValue(strings.TrimLeft(s[1:], " \t"))
			if !ok {
				return rel, s, false
			}
		}
		if strings.EqualFold(name, "rel") && !relSeen {
			rel, relSeen = value, true
		}
	}
}

// paramValue reads a token or a quoted-string (RFC 9110 §5.6.4) at the
// start of s.
func paramValue(s string) (value, rest string, ok bool) {
	if !strings.HasPrefix(s, `"`) {
		i := strings.IndexAny(s, ";, \t")
		if i < 0 {
			i = len(s)
		}
		return s[:i], s[i:], true
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], true
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}

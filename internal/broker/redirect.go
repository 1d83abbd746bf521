package broker

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// redirectPattern is a compiled redirect_uris entry. The syntax is
// scheme://host[:port]/path where port may be "*" (any port, which must be
// present) and path may end in "*" (any continuation). Nothing else is a
// wildcard: hosts are matched exactly, because a wildcard host would let
// codes be redeemed for any site.
type redirectPattern struct {
	raw      string
	scheme   string
	host     string // lower case, IPv6 without brackets
	port     string // "" none, "*" any, else exact
	path     string // escaped, without the trailing "*"
	anyTail  bool
	loopback bool
}

func parseRedirectPattern(raw string) (redirectPattern, error) {
	p := redirectPattern{raw: raw}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return p, errors.New("not of the form scheme://host:port/path")
	}
	authority, path, _ := strings.Cut(rest, "/")
	path = "/" + path
	if h, ok := strings.CutSuffix(authority, ":*"); ok {
		authority, p.port = h, "*"
	}
	if strings.HasSuffix(path, "*") {
		path, p.anyTail = strings.TrimSuffix(path, "*"), true
	}
	if strings.Contains(authority, "*") || strings.Contains(path, "*") {
		return p, errors.New(`"*" may only stand for the whole port or end the path`)
	}
	u, err := url.Parse(scheme + "://" + authority + path)
	if err != nil {
		return p, fmt.Errorf("not a URL: %w", err)
	}
	switch {
	case u.User != nil:
		return p, errors.New("must not contain user information")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return p, errors.New("must not contain a query or fragment")
	case u.Hostname() == "":
		return p, errors.New("has no host")
	}
	if p.port == "" {
		p.port = u.Port()
	}
	p.scheme, p.host, p.path = strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.EscapedPath()
	p.loopback = httpx.IsLoopback(p.host)
	switch {
	case p.scheme == "http" && !p.loopback:
		// RFC 8252 §8.3 and RFC 9700 §4.1.1: only loopback redirects may
		// be plain http; anything else leaks the code on the network.
		return p, errors.New("http is only allowed for loopback hosts (127.0.0.1, [::1], localhost)")
	case p.scheme != "http" && p.scheme != "https":
		return p, fmt.Errorf("scheme %q is not http or https", p.scheme)
	}
	return p, nil
}

// match reports whether redirectURI, as a client sent it, fits the pattern.
// Dot segments, user information, queries and fragments never match: the
// CLI sends none, and each has been used to turn an allowed prefix into
// a different target.
func (p redirectPattern) match(redirectURI string) bool {
	u, err := url.Parse(redirectURI)
	if err != nil || u.User != nil || u.Opaque != "" || u.RawQuery != "" || u.ForceQuery ||
		strings.Contains(redirectURI, "#") {
		return false
	}
	if strings.ToLower(u.Scheme) != p.scheme || !p.sameHost(u.Hostname()) {
		return false
	}
	switch port := u.Port(); p.port {
	case "*":
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port != strconv.Itoa(n) {
			return false
		}
	default:
		if port != p.port {
			return false
		}
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if hasDotSegment(u.Path) {
		return false
	}
	if p.anyTail {
		return strings.HasPrefix(path, p.path)
	}
	return path == p.path
}

// sameHost compares names case-insensitively and IP literals as addresses,
// so that [0:0:0:0:0:0:0:1] is [::1].
func (p redirectPattern) sameHost(host string) bool {
	if strings.EqualFold(host, p.host) {
		return true
	}
	want, err1 := netip.ParseAddr(p.host)
	got, err2 := netip.ParseAddr(host)
	return err1 == nil && err2 == nil && want == got
}

func hasDotSegment(path string) bool {
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

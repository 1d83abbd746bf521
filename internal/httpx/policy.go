package httpx

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// CheckEndpoint is the one URL policy for a provider endpoint, wherever it
// came from (a discovery document, the profile, the environment, a flag):
// an absolute http(s) URL without a fragment (RFC 6749 §3.1, §3.2), and
// https unless the host is a loopback address. Codes and tokens cross
// these URLs, and RFC 6749 §3.1 and §3.2 require TLS; traffic to a
// loopback host never leaves the machine, which is where development
// providers run. The error quotes the URL and says what to change; the
// caller adds which setting or document it came from.
func CheckEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL", raw)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return fmt.Errorf("%q must use https (http is allowed only for localhost and loopback addresses)", raw)
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return fmt.Errorf("%q must not have a fragment", raw)
	}
	return nil
}

// IsLoopback reports hosts that never leave the machine: localhost,
// 127.0.0.0/8 and ::1 (RFC 8252 §8.3 prefers the literals; localhost is
// accepted for development providers).
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.IsLoopback()
}

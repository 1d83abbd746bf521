package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxDocument bounds what is read of the broker's discovery document, key
// set and introspection answers: each is a few hundred bytes.
const maxDocument = 1 << 20

// defaultTimeout bounds each request to the broker when the Verifier is
// given no HTTP client.
const defaultTimeout = 10 * time.Second

// metadata is what this package reads of the broker's discovery document
// (OpenID Connect Discovery 1.0 §3, RFC 8414 §2).
type metadata struct {
	Issuer        string `json:"issuer"`
	JWKSURI       string `json:"jwks_uri"`
	Introspection string `json:"introspection_endpoint"`
}

// discover reads the broker's discovery document and checks that it
// speaks for the configured issuer (OpenID Connect Discovery 1.0 §4.3)
// and that its endpoints are as safe to reach as the issuer itself.
func (v *Verifier) discover(ctx context.Context) (metadata, error) {
	var m metadata
	u := strings.TrimSuffix(v.Issuer, "/") + "/.well-known/openid-configuration"
	if err := v.getJSON(ctx, u, &m); err != nil {
		return m, fmt.Errorf("read the broker's discovery document: %w", err)
	}
	if m.Issuer != v.Issuer {
		return m, fmt.Errorf("the discovery document at %s is for issuer %q, not %q", u, m.Issuer, v.Issuer)
	}
	if m.JWKSURI == "" {
		return m, fmt.Errorf("the discovery document at %s names no jwks_uri", u)
	}
	if err := v.checkEndpoint(m.JWKSURI); err != nil {
		return m, fmt.Errorf("the discovery document's jwks_uri %w", err)
	}
	if m.Introspection != "" {
		if err := v.checkEndpoint(m.Introspection); err != nil {
			return m, fmt.Errorf("the discovery document's introspection_endpoint %w", err)
		}
	}
	return m, nil
}

// getJSON GETs u and decodes its JSON answer into dst, reading at most
// maxDocument bytes.
func (v *Verifier) getJSON(ctx context.Context, u string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.httpc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	b, err := readLimited(resp.Body)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("GET %s: the answer is not the JSON expected", u)
	}
	return nil
}

func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxDocument+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxDocument {
		return nil, errors.New("the answer is larger than 1 MiB")
	}
	return b, nil
}

// redirectClient is a copy of base (the caller's client stays as it is)
// that follows redirects only within the origin a request was sent to:
// the keys that decide who gets in come from the broker, or from nowhere.
func redirectClient(base *http.Client) *http.Client {
	if base == nil {
		base = &http.Client{Timeout: defaultTimeout}
	}
	c := *base
	next := base.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if first := via[0].URL; req.URL.Scheme != first.Scheme || !strings.EqualFold(req.URL.Host, first.Host) {
			return fmt.Errorf("refused a redirect from %s to another origin", first.Redacted())
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &c
}

// checkIssuer checks the configured issuer: an https URL, or http on a
// loopback host for tests and development, with no query or fragment
// (OpenID Connect Discovery 1.0 §3).
func checkIssuer(issuer string) (*url.URL, error) {
	if issuer == "" {
		return nil, errors.New("verify: the Verifier has no Issuer")
	}
	u, err := url.Parse(issuer)
	if err != nil || !safeURL(u) || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("verify: the Issuer %q is not an https URL (or http on a loopback host) without query or fragment", issuer)
	}
	return u, nil
}

// checkEndpoint checks one of the broker's endpoints: it must be reached
// the way the issuer is, so that an https issuer never sends the API to a
// plain-http key set. The error completes a sentence.
func (v *Verifier) checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !safeURL(u) || u.User != nil {
		return fmt.Errorf("%q is not an https URL (or http on a loopback host)", raw)
	}
	if u.Scheme != v.issuerURL.Scheme {
		return fmt.Errorf("%q does not use the issuer's scheme, %s", raw, v.issuerURL.Scheme)
	}
	return nil
}

func safeURL(u *url.URL) bool {
	switch {
	case u.Host == "" || u.Opaque != "":
		return false
	case u.Scheme == "https":
		return true
	case u.Scheme == "http":
		return isLoopback(u.Hostname())
	}
	return false
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

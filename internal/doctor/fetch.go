package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/provider"
)

// response is one GET kept whole (httpx.Response: the status, the body,
// the time it took) with the provider's clock read off its Date header.
type response struct {
	*httpx.Response
	// date is the provider's clock when it answered, already advanced by
	// any Age a cache added (RFC 9111 §4.2.3); zero when there was no Date.
	date time.Time
	// at is this machine's clock (Options.Now) when the answer arrived.
	at time.Time
}

// get fetches u once. There are no retries: a provider that does not
// answer should be reported at once, not after a backoff. As for a login,
// a redirect is followed within the origin only, and the body is bounded
// (httpx.GetDocument).
func get(ctx context.Context, o Options, u string) (*response, error) {
	resp, err := httpx.GetDocument(ctx, o.HTTP, u, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return nil, err
	}
	r := &response{Response: resp, at: o.Now()}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		// Date is truncated to the second, so the provider's clock was
		// anywhere in the second that follows; its middle is the best guess.
		age, _ := strconv.Atoi(resp.Header.Get("Age"))
		r.date = d.Add(time.Duration(max(age, 0))*time.Second + 500*time.Millisecond)
	}
	return r, nil
}

// isHTML tells a login or error page from a document: an SSO proxy in
// front of the issuer, or a wrong URL, answers 200 with HTML.
func (r *response) isHTML() bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return strings.Contains(mt, "html") || bytes.HasPrefix(bytes.TrimSpace(r.Body), []byte("<"))
}

// discovery is a fetched and parsed discovery document.
type discovery struct {
	md      *provider.Metadata
	resp    *response
	rfc8414 bool // found only at the RFC 8414 location
}

// isOIDC reports whether the provider presents itself as an OpenID
// provider, for which jwks_uri and id_token_signing_alg_values_supported
// are required (OpenID Connect Discovery §3) rather than optional.
func (d *discovery) isOIDC() bool {
	return !d.rfc8414 || slices.Contains(d.md.ScopesSupported, "openid") || len(d.md.IDTokenSigningAlgValuesSupported) > 0
}

const reachRemedy = "check the issuer URL and that the provider is reachable from here (VPN, proxy, firewall)"

// failFetch reports a GET that failed. A redirect to another origin has a
// remedy of its own: sesame will never follow it, since that origin would
// choose the endpoints or the keys, so only the right URL helps.
func failFetch(check string, err error) Item {
	var rd *httpx.RedirectError
	if errors.As(err, &rd) {
		return fail(check, err.Error(), "use the final URL directly: the issuer (or jwks_uri) the provider documents, at the origin that serves it")
	}
	return fail(check, err.Error(), reachRemedy)
}

// discover reads the discovery document the way provider.Discover does,
// from provider.DiscoveryURLs: the OpenID Connect location (OpenID Connect
// Discovery §4.1), then, on 404 only, the RFC 8414 §3.1 location.
// It returns nil and a failed item when there is no usable document.
func discover(ctx context.Context, o Options) (*discovery, Item) {
	const check = "discovery"
	oidcURL, altURL, err := provider.DiscoveryURLs(o.Issuer)
	if u, _ := url.Parse(o.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fail(check, fmt.Sprintf("the issuer %q is not an absolute http(s) URL", o.Issuer),
			"set the profile's issuer to the provider's issuer URL, e.g. https://login.example.com/tenant")
	}
	resp, err := get(ctx, o, oidcURL)
	if err != nil {
		return nil, failFetch(check, err)
	}
	d := &discovery{resp: resp}
	if resp.Status == http.StatusNotFound {
		resp, err = get(ctx, o, altURL)
		switch {
		case err != nil:
			return nil, fail(check, fmt.Sprintf("%s answered 404; RFC 8414 location: %v", oidcURL, err), reachRemedy)
		case resp.Status == http.StatusNotFound:
			return nil, fail(check, fmt.Sprintf("no document: %s and %s both answered 404", oidcURL, altURL),
				"the issuer is the URL before /.well-known, often with a tenant or realm path; check it in the provider's console")
		}
		d.resp, d.rfc8414 = resp, true
	}
	if resp.Status != http.StatusOK {
		remedy := "check the issuer URL; the provider should answer 200"
		switch {
		case resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden:
			remedy = "the discovery document must be public; a proxy or firewall may be asking for credentials"
		case resp.Status >= 500:
			remedy = "the provider is failing; try again later or check its status page"
		}
		return nil, fail(check, fmt.Sprintf("%s answered HTTP %d", resp.URL, resp.Status), remedy)
	}
	if !json.Valid(resp.Body) {
		if resp.isHTML() {
			return nil, fail(check, fmt.Sprintf("not JSON: %s returned an HTML page", resp.URL),
				"an HTML page is usually a login portal, a proxy or a wrong URL; use the issuer URL the provider documents")
		}
		return nil, fail(check, fmt.Sprintf("not JSON: %s returned %s", resp.URL, describe(resp)),
			"check the issuer URL; the document must be a JSON object (OpenID Connect Discovery §4.2)")
	}
	var md provider.Metadata
	if err := json.Unmarshal(resp.Body, &md); err != nil {
		return nil, fail(check, fmt.Sprintf("malformed metadata at %s: %v", resp.URL, err),
			"the provider publishes a broken document; report it to its administrators")
	}
	d.md = &md
	where := "OpenID Connect location"
	if d.rfc8414 {
		where = "RFC 8414 location; the OpenID Connect one answered 404"
	}
	return d, ok(check, fmt.Sprintf("200 in %d ms from %s (%s)", resp.Elapsed.Milliseconds(), resp.URL, where))
}

// describe names what a non-JSON body looks like without dumping it.
func describe(r *response) string {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return "an empty body"
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "no Content-Type"
	}
	return fmt.Sprintf("%d bytes of %s", len(r.Body), ct)
}

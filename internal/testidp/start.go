package testidp

import (
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// ResolveStart makes a browser's first hop: it fetches sesame's one-time
// start URL without following the redirect and returns where it points, the
// authorization URL. The fetch uses up the start URL, so callers then go
// on from the authorization URL, as a browser does.
func ResolveStart(startURL string) (string, error) {
	// The browser's command line is readable by every local user: it must
	// never carry the authorization request, only the listener's address.
	if u, err := url.Parse(startURL); err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.RawQuery != "" {
		return "", fmt.Errorf("the browser was opened at %s, not at a start URL on 127.0.0.1", startURL)
	}
	c := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.Get(startURL)
	if err != nil {
		return "", fmt.Errorf("open the start URL: %w", err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if (resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther) || loc == "" {
		return "", fmt.Errorf("the start URL %s answered %d, not a redirect", startURL, resp.StatusCode)
	}
	return loc, nil
}

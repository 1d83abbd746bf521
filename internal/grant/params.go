package grant

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// withParams returns a client whose POSTs carry extra form parameters. It
// lets the refresh request keep x/oauth2's response parsing while adding
// what x/oauth2 cannot send.
func withParams(base *http.Client, extra url.Values) *http.Client {
	if base == nil {
		base = http.DefaultClient
	}
	c := *base
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = paramTransport{base: rt, extra: extra}
	return &c
}

type paramTransport struct {
	base  http.RoundTripper
	extra url.Values
}

func (p paramTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || r.Body == nil {
		return p.base.RoundTrip(r)
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, err
	}
	for k, vs := range p.extra {
		form[k] = append([]string(nil), vs...)
	}
	body := form.Encode()
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	return p.base.RoundTrip(r)
}

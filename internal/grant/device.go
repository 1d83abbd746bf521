package grant

import (
	"context"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// DeviceCode is a device authorization response (RFC 8628 §3.2).
type DeviceCode struct {
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string
	Expiry                  time.Time
	Interval                time.Duration
	da                      *oauth2.DeviceAuthResponse
}

// DeviceAuth starts a device authorization grant at endpoint. extra adds
// parameters (resource, prompt, ...) to the request.
func (c Client) DeviceAuth(ctx context.Context, endpoint string, scopes []string, extra url.Values) (*DeviceCode, error) {
	conf := &oauth2.Config{ClientID: c.ClientID, Scopes: scopes,
		Endpoint: oauth2.Endpoint{DeviceAuthURL: endpoint, TokenURL: c.TokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	const op = "start the device login"
	if err := checkURL(op, "device authorization", endpoint); err != nil {
		return nil, err
	}
	// RFC 9449 defines no proof for the device authorization request:
	// the proofs go with the polling at the token endpoint.
	noProof := c
	noProof.DPoP = nil
	ctx = noProof.withExtra(ctx, extra)
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		return nil, describe(op, "device authorization", endpoint, err)
	}
	interval := time.Duration(da.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second // RFC 8628 §3.2 default
	}
	return &DeviceCode{UserCode: da.UserCode, VerificationURI: da.VerificationURI,
		VerificationURIComplete: da.VerificationURIComplete, Expiry: da.Expiry, Interval: interval, da: da}, nil
}

// DeviceToken polls the token endpoint until the user approves, denies,
// or the code expires, waiting the server's interval and backing off on
// slow_down (RFC 8628 §3.5).
func (c Client) DeviceToken(ctx context.Context, dc *DeviceCode, extra url.Values) (*Tokens, error) {
	// No scope here: RFC 8628 §3.4 defines none for this request, and
	// x/oauth2 would send the config's.
	conf := &oauth2.Config{ClientID: c.ClientID,
		Endpoint: oauth2.Endpoint{TokenURL: c.TokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	const op = "finish the device login"
	if err := checkURL(op, "token", c.TokenURL); err != nil {
		return nil, err
	}
	tok, err := conf.DeviceAccessToken(c.withExtra(ctx, extra), dc.da)
	if err != nil {
		return nil, describe(op, "token", c.TokenURL, err)
	}
	return c.tokens(op, tok)
}

func (c Client) withExtra(ctx context.Context, extra url.Values) context.Context {
	if len(extra) > 0 {
		return context.WithValue(ctx, oauth2.HTTPClient, withParams(c.client(), extra))
	}
	return c.ctx(ctx)
}

package login

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/sesame-cli/sesame/internal/browser"
	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/term"
)

// Device runs the device authorization grant (RFC 8628) for machines
// without a browser: the user opens a URL on any other device and enters a
// code, while sesame polls. Port and the browser options do not apply.
func Device(ctx context.Context, o Options) (*session.Tokens, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Endpoints.Device == "" {
		return nil, errors.New("the provider has no device_authorization_endpoint: it does not offer device login (RFC 8628); use `sesame login` with a browser")
	}
	if o.TokenURL != "" {
		return nil, errors.New("device login through a broker is not supported: the broker exchanges authorization codes and refresh tokens only")
	}
	if err := CheckParams(o.Params); err != nil {
		return nil, err
	}
	if err := checkVerifiable(o); err != nil {
		return nil, err
	}
	extra := url.Values{}
	for _, r := range o.Resources {
		extra.Add("resource", r)
	}
	params := url.Values{}
	for k, v := range o.Params {
		params.Set(k, v)
	}
	if slices.Contains(o.Scopes, "offline_access") && params.Get("prompt") == "" {
		params.Set("prompt", "consent") // as for the browser login: keep offline_access
	}
	c := o.grantClient(o.Endpoints.Token)
	dc, err := c.DeviceAuth(ctx, o.Endpoints.Device, o.Scopes, merge(extra, params))
	if err != nil {
		return nil, err
	}
	if err := checkVerificationURIs(dc); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Stderr, "To sign in, open this URL on any device:\n\n  %s\n\nand enter the code:  %s\n\n", term.Clean(dc.VerificationURI), term.Clean(dc.UserCode))
	if dc.VerificationURIComplete != "" {
		fmt.Fprintf(o.Stderr, "(or open %s, which carries the code)\n\n", term.Clean(dc.VerificationURIComplete))
	}
	wait := o.Timeout
	if !dc.Expiry.IsZero() {
		wait = min(wait, time.Until(dc.Expiry))
	}
	if o.Interactive {
		fmt.Fprintf(o.Stderr, "Waiting for the sign-in to finish (up to %s)...\n", wait.Round(time.Second))
	}
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	start := time.Now()
	got, err := c.DeviceToken(waitCtx, dc, extra)
	if err != nil {
		var ge *grant.Error
		switch {
		case errors.As(err, &ge) && ge.Code == "access_denied":
			return nil, fmt.Errorf("login failed: %w\nthe sign-in was denied; run the login again to retry", err)
		case errors.As(err, &ge) && ge.Code == "expired_token", errors.Is(err, context.DeadlineExceeded):
			return nil, fmt.Errorf("the code expired before the sign-in finished; run the login again")
		}
		return nil, err
	}
	o.trace("callback", start)
	return keep(ctx, o, got, "")
}

// checkVerificationURIs makes sure what the user is told to open is a web
// page (RFC 8628 §3.2): the same rule as for what sesame opens itself, so
// that a provider cannot send the user to a file: URL, a custom scheme or
// javascript:.
func checkVerificationURIs(dc *grant.DeviceCode) error {
	if dc.VerificationURI == "" {
		return errors.New("start the device login: the provider sent no verification_uri (RFC 8628 §3.2)")
	}
	for _, u := range []struct{ name, v string }{
		{"verification_uri", dc.VerificationURI},
		{"verification_uri_complete", dc.VerificationURIComplete},
	} {
		if u.v == "" {
			continue
		}
		if err := browser.CheckURL(u.v); err != nil {
			return fmt.Errorf("start the device login: the provider's %s is unusable: %w", u.name, err)
		}
	}
	return nil
}

func merge(a, b url.Values) url.Values {
	out := url.Values{}
	for _, v := range []url.Values{a, b} {
		for k, vs := range v {
			out[k] = append(out[k], vs...)
		}
	}
	return out
}

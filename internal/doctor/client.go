package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/login"
	"github.com/sesame-cli/sesame/internal/loopback"
)

// Client asks the provider whether it accepts the profile's client and
// redirect URI, with the very check a login makes before the browser
// opens (login.Check): the authorization request is pushed (RFC 9126)
// where the provider offers that, else its authorization URL is fetched
// once. So "would my client id and redirect URI work here?" has an answer
// without a login, and nothing is stored.
//
// The redirect URI is the one a login would send: with the profile's
// port, http://127.0.0.1:PORT/callback; without one, a login takes a
// free port, so the check does too, from a listener it closes at once
// (providers that follow RFC 8252 §7.3 accept any port; those that match
// exactly refuse it, as they would the login's).
func Client(ctx context.Context, hc *http.Client, p config.Profile) Item {
	const check = "client"
	lo, err := login.ForProfile(ctx, hc, p)
	if err != nil {
		return fail(check, err.Error(), "see the checks above")
	}
	redirect, err := redirectURI(p.Port)
	if err != nil {
		return warn(check, "not checked: "+err.Error(), "")
	}
	what := fmt.Sprintf("client_id %q with redirect URI %s", p.ClientID, redirect)
	v, err := login.Check(ctx, lo, redirect)
	var refused *login.RefusedError
	switch {
	case errors.As(err, &refused):
		return fail(check, what+": "+refused.Answer(), refused.Fix)
	case err != nil:
		return fail(check, what+": "+err.Error(), "")
	case v.Warning != "":
		return warn(check, what+": "+v.Warning, "sesame could not ask the provider from here; a login will tell")
	}
	return ok(check, what+": "+v.Answer)
}

// redirectURI is the redirect URI a login with port would send.
func redirectURI(port int) (string, error) {
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("no free loopback port: %w", err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	return "http://127.0.0.1:" + strconv.Itoa(port) + loopback.CallbackPath, nil
}

// Add appends items and keeps OK true only while no item failed.
func (r *Report) Add(items ...Item) {
	r.Items = append(r.Items, items...)
	r.OK = !slices.ContainsFunc(r.Items, func(it Item) bool { return it.Status == StatusFail })
}

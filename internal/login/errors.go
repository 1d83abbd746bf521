package login

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/loopback"
)

// waited is what the listener saw by the time the login stopped waiting.
type waited struct {
	timeout   time.Duration
	opened    bool // the start URL was fetched: the browser went to the provider
	refused   int  // callbacks refused for a wrong state
	checked   bool // the provider accepted the request before the browser opened
	noBrowser bool
}

// waitError explains a wait that ended without a response. --timeout is
// suggested only when the user was clearly signing in (the browser went
// to a request the provider had accepted, or answers came back): when
// nothing ever came back, more time would not have helped.
func waitError(err error, o Options, w waited) error {
	if !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("login cancelled: %w", err)
	}
	msg := fmt.Sprintf("timed out after %s waiting for the sign-in to finish in the browser", w.timeout)
	switch {
	case w.refused > 0:
		msg += fmt.Sprintf(" (%d response(s) with a wrong state were refused); run the login again, with --timeout to wait longer", w.refused)
	case !w.opened && w.noBrowser:
		msg += ": nobody opened the sign-in address; run the login again and open the address it prints in a browser on this machine"
	case !w.opened:
		msg += ": the browser never opened the sign-in address (check $BROWSER); run the login again and open the address it prints yourself, or sign in on another device with --device"
	case w.checked:
		msg += "; the provider's pages were reached but nothing came back: run the login again, with --timeout to wait longer"
	default:
		msg += fmt.Sprintf("; the provider's pages were reached but nothing came back: if the browser shows an error, check client_id %q and the redirect URI at the provider (`sesame doctor --client-id %s`)",
			o.ClientID, o.ClientID)
	}
	return errors.New(msg)
}

// explainExchangeError adds what to do next to a refused code exchange.
func explainExchangeError(err error, viaBroker bool) error {
	var ge *grant.Error
	if !errors.As(err, &ge) {
		return err
	}
	switch {
	case ge.Code == "invalid_client" && !viaBroker:
		return fmt.Errorf("%w\nthe provider wants this client to authenticate: it is a confidential client, so log in through a sesame-broker that holds its secret (--broker URL)", err)
	case ge.Code == "invalid_client":
		return fmt.Errorf("%w\nthe broker's client credentials were refused: check the broker's client id and secret", err)
	case ge.Code == "invalid_grant" && ge.Server == "" && strings.Contains(strings.ToLower(ge.Description), "redirect"):
		return fmt.Errorf("%w\nthe provider matches redirect URIs exactly: register this one or pin a port with --port", err)
	}
	return err
}

// explainAuthError adds what to do next to the provider's error code.
func explainAuthError(e *loopback.AuthError) error {
	hint := ""
	switch e.Code {
	case "access_denied":
		hint = "the sign-in was denied or cancelled; run the login again to retry"
	case "invalid_request", "unauthorized_client":
		if strings.Contains(strings.ToLower(e.Description), "redirect") {
			hint = "register http://127.0.0.1/callback (any port) as a redirect URI of this client at the provider, or pin one with --port"
		} else {
			hint = "check the client id and that this client may use the authorization code flow with PKCE"
		}
	case "invalid_scope":
		hint = "check the scopes (--scope) this client may request"
	case "invalid_target":
		hint = "check the --resource values this client may request"
	case "issuer_mismatch":
		hint = "the response did not come from the configured provider; the login was stopped"
	}
	if hint == "" {
		return fmt.Errorf("login failed: %w", e)
	}
	return fmt.Errorf("login failed: %w\n%s", e, hint)
}

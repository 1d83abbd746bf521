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

func waitError(err error, timeout time.Duration, refused int) error {
	if errors.Is(err, context.DeadlineExceeded) {
		msg := fmt.Sprintf("timed out after %s waiting for the sign-in to finish in the browser", timeout)
		if refused > 0 {
			msg += fmt.Sprintf(" (%d response(s) with a wrong state were refused)", refused)
		}
		return errors.New(msg + "; run the login again, with --timeout to wait longer")
	}
	return fmt.Errorf("login cancelled: %w", err)
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
	case ge.Code == "invalid_grant" && strings.Contains(strings.ToLower(ge.Description), "redirect"):
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

package grant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Revoke asks the provider to revoke token (RFC 7009). hint is
// "refresh_token" or "access_token". Revoking a refresh token ends the
// grant at providers that follow RFC 7009 §2.1. x/oauth2 has no call for it.
func (c Client) Revoke(ctx context.Context, revocationURL, token, hint string) error {
	form := url.Values{"token": {token}, "client_id": {c.ClientID}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, revocationURL, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("revoke the %s: %w", hintName(hint), err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &Error{Op: "revoke the " + hintName(hint), Err: fmt.Errorf("could not reach the revocation endpoint %s: %w", revocationURL, err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	// RFC 7009 §2.2: 200 means revoked, or the token was already invalid.
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	e := &Error{Op: "revoke the " + hintName(hint), Status: resp.StatusCode}
	var oe struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &oe) == nil && oe.Code != "" {
		e.Code, e.Description = oe.Code, oe.Description
	} else {
		e.Err = fmt.Errorf("the revocation endpoint answered HTTP %d (%s) without an OAuth error", resp.StatusCode, contentType(resp))
	}
	return e
}

func hintName(hint string) string {
	switch hint {
	case "refresh_token":
		return "refresh token"
	case "access_token":
		return "access token"
	}
	return "token"
}

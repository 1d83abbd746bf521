package grant

import "context"

// Revoke asks the provider to revoke token (RFC 7009). hint is
// "refresh_token" or "access_token". Revoking a refresh token ends the
// grant at providers that follow RFC 7009 §2.1. x/oauth2 has no call for it.
// A 200 means revoked, or already invalid (§2.2).
func (c Client) Revoke(ctx context.Context, revocationURL, token, hint string) error {
	_, err := c.post(ctx, tokenRequest{op: "revoke the " + hintName(hint), what: "revocation", endpoint: revocationURL, token: token, hint: hint})
	return err
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

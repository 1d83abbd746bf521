package grant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Introspect asks the provider about a token (RFC 7662) and returns the
// JSON response as sent. Providers usually want client authentication
// here, which a broker adds; a public client sends its client_id.
func (c Client) Introspect(ctx context.Context, endpoint, token, hint string) (map[string]any, error) {
	const op = "introspect the token"
	body, err := c.post(ctx, tokenRequest{op: op, what: "introspection", endpoint: endpoint, token: token, hint: hint})
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, &Error{Op: op, Err: fmt.Errorf("the introspection response is not JSON: %w", err)}
	}
	if _, ok := out["active"].(bool); !ok {
		return nil, &Error{Op: op, Err: errors.New("the introspection response has no boolean \"active\" member (RFC 7662 §2.2)")}
	}
	return out, nil
}

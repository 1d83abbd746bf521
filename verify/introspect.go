package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Active asks the broker's introspection endpoint (RFC 7662), named in
// its discovery document, whether token is still active: whether its
// session has not been ended by a sign-out or revoked. Verify tells
// whether a token is the broker's and unexpired; Active, which costs a
// round trip, is for the operations that must stop as soon as a session
// ends. Call it after Verify or VerifyRequest: it checks nothing itself.
//
// It fails closed: when the broker cannot be asked, or answers something
// other than an RFC 7662 answer, the error matches ErrUnavailable and the
// caller must refuse the request, not take the token for inactive, nor
// for active.
func (v *Verifier) Active(ctx context.Context, token string) (bool, error) {
	if err := v.setup(); err != nil {
		return false, err
	}
	set, err := v.brokerKeys(ctx, func(*brokerKeys) bool { return true })
	if set == nil {
		return false, unavailable("the broker's discovery document could not be read", err)
	}
	if set.introspection == "" {
		return false, unavailable("the broker publishes no introspection_endpoint", nil)
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, set.introspection, strings.NewReader(form.Encode()))
	if err != nil {
		return false, unavailable("the session could not be checked", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := v.httpc.Do(req)
	if err != nil {
		return false, unavailable("the session could not be checked", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, unavailable("the session could not be checked", fmt.Errorf("POST %s: %s", set.introspection, resp.Status))
	}
	b, err := readLimited(resp.Body)
	if err != nil {
		return false, unavailable("the session could not be checked", err)
	}
	var answer map[string]any
	if err := json.Unmarshal(b, &answer); err != nil {
		return false, unavailable("the session could not be checked", errors.New("the introspection answer is not JSON"))
	}
	active, ok := answer["active"].(bool)
	if !ok {
		return false, unavailable("the session could not be checked", errors.New(`the introspection answer has no boolean "active" (RFC 7662 §2.2)`))
	}
	return active, nil
}

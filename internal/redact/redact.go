// Package redact keeps secrets out of what sesame prints about itself:
// verbose logs and error messages name parameters, never their values.
package redact

import (
	"net/url"
	"strings"
)

// sensitive are parameter names whose values are credentials or can be
// traded for them (RFC 6749, 7636, 7009, 7662, 8628, OpenID Connect).
var sensitive = map[string]bool{
	"code": true, "code_verifier": true, "state": true, "nonce": true,
	"access_token": true, "refresh_token": true, "id_token": true, "token": true,
	"id_token_hint": true, "client_secret": true, "client_assertion": true,
	"device_code": true, "user_code": true, "password": true, "assertion": true,
	"subject_token": true, "actor_token": true, "login_hint_token": true,
}

// URL returns u with the values of sensitive query parameters replaced.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if sensitive[strings.ToLower(k)] {
				q[k] = []string{"REDACTED"}
			}
		}
		u.RawQuery = q.Encode()
	}
	u.Fragment = ""
	return u.String()
}

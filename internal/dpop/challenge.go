package dpop

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// maxChallenge bounds what is read of a 400 body to tell a nonce
// challenge from another error.
const maxChallenge = 64 << 10

// IsNonceChallenge reports whether resp asks for a proof with a new
// nonce: a 400 with the OAuth error use_dpop_nonce from a token endpoint
// (RFC 9449 §8), or a 401 with a DPoP challenge of that error from a
// resource server (§9). For a 400 it reads up to 64 KiB of the body and
// puts it back, so that resp.Body still reads in full.
func IsNonceChallenge(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return dpopError(resp.Header.Values("WWW-Authenticate")) == "use_dpop_nonce"
	case http.StatusBadRequest:
		if resp.Body == nil {
			return false
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxChallenge+1))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
		var e struct {
			Error string `json:"error"`
		}
		return len(b) <= maxChallenge && json.Unmarshal(b, &e) == nil && e.Error == "use_dpop_nonce"
	}
	return false
}

// dpopError is the error parameter of the DPoP challenge among
// WWW-Authenticate values (RFC 9110 §11.6.1, RFC 9449 §7.1), or "". The
// values are read as challenges: a scheme, then name=value parameters,
// the values tokens or quoted strings, all separated by commas.
func dpopError(values []string) string {
	for _, v := range values {
		scheme := ""
		for s := v; s != ""; {
			s = strings.TrimLeft(s, " \t,")
			name, rest := cutToken(s)
			rest = strings.TrimLeft(rest, " \t")
			if name == "" || !strings.HasPrefix(rest, "=") {
				if name == "" && s != "" {
					rest = s[1:] // not a token: skip a byte, so the loop ends
				} else {
					scheme = name
				}
				s = rest
				continue
			}
			var value string
			value, s = cutValue(strings.TrimLeft(rest[1:], " \t"))
			if strings.EqualFold(scheme, "DPoP") && strings.EqualFold(name, "error") {
				return value
			}
		}
	}
	return ""
}

// cutToken splits s after its leading token (RFC 9110 §5.6.2).
func cutToken(s string) (token, rest string) {
	i := 0
	for i < len(s) && (isAlnum(s[i]) || strings.IndexByte("!#$%&'*+-.^_`|~", s[i]) >= 0) {
		i++
	}
	return s[:i], s[i:]
}

// cutValue splits s after its leading token or quoted string (RFC 9110
// §5.6.4), the latter unquoted.
func cutValue(s string) (value, rest string) {
	if !strings.HasPrefix(s, `"`) {
		return cutToken(s)
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return b.String(), s[i+1:]
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), "" // unterminated
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

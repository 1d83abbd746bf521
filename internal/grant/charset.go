package grant

import "fmt"

// checkCharset refuses tokens outside the character set RFC 6749 gives
// them: access_token and refresh_token are 1*VSCHAR, visible ASCII
// %x21-7E (Appendix A.12, A.17), token_type is a type-name or URI (A.13),
// and an ID token is a JWT (RFC 7519 §7.1: base64url and dots), all inside
// that set. Tokens end up in HTTP headers, environment variables and shell
// substitutions: one with a line break would split the header of
// `curl -H "Authorization: Bearer $(sesame token)"` and inject another.
// The message says which token and where, never the token itself.
func checkCharset(t *Tokens) error {
	for _, f := range []struct{ name, v string }{
		{"access_token", t.AccessToken},
		{"refresh_token", t.RefreshToken},
		{"id_token", t.IDToken},
		{"token_type", t.TokenType},
	} {
		if err := CheckTokenChars(f.name, f.v); err != nil {
			return fmt.Errorf("unusable response from the token endpoint: %w", err)
		}
	}
	return nil
}

// CheckTokenChars reports a token (or a signed response, which is a JWT)
// holding anything outside visible ASCII, naming what and where but never
// the value.
func CheckTokenChars(name, v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x21 || c > 0x7e {
			return fmt.Errorf("the %s contains %s at byte %d; tokens are visible ASCII only (RFC 6749 Appendix A)", name, charKind(c), i)
		}
	}
	return nil
}

func charKind(c byte) string {
	switch {
	case c == '\r' || c == '\n':
		return "a line break"
	case c == ' ':
		return "a space"
	case c == '\t':
		return "a tab"
	case c < 0x20 || c == 0x7f:
		return "a control character"
	}
	return "a non-ASCII byte"
}

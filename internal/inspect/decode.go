package inspect

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNotJWT means the token is opaque: not segments of base64url whose
// first is a JSON object (RFC 7519 §7.2). Only the provider knows what an
// opaque token means; the CLI offers introspection (RFC 7662) instead.
var ErrNotJWT = errors.New("not a JWT: the token is opaque (not base64url segments with a JSON header and payload)")

// ErrEncrypted means the token is a JWE (RFC 7516 §7.1, five segments, or
// a header with "enc"): only the holder of the decryption key can read it.
var ErrEncrypted = errors.New("encrypted token (JWE): sesame cannot read it")

// token is a decoded compact JWS (RFC 7515 §7.1). problems lists what is
// malformed; a token with any is shown but never verified.
type token struct {
	header   map[string]any
	claims   map[string]any
	compact  string // the whole token, when it has three segments
	problems []string
}

// clean drops what surrounds a pasted token: whitespace, and the scheme of
// a copied Authorization header (RFC 6750 §2.1).
func clean(raw string) string {
	s := strings.TrimSpace(raw)
	if len(s) > len("Bearer ") && strings.EqualFold(s[:len("Bearer ")], "Bearer ") {
		s = strings.TrimSpace(s[len("Bearer "):])
	}
	return s
}

// decode splits tok and decodes what it can. It is strict, as RFC 7515 §2
// asks (base64url, no padding), yet still decodes a padded or base64
// segment so that the problem it reports can be understood.
func decode(tok string) (*token, error) {
	segs := strings.Split(tok, ".")
	hb, note, err := b64(segs[0])
	if err != nil {
		return nil, ErrNotJWT
	}
	header, err := object(hb)
	if err != nil {
		return nil, ErrNotJWT
	}
	if _, enc := header["enc"]; enc || len(segs) == 5 {
		return nil, ErrEncrypted
	}
	t := &token{header: header}
	if note != "" {
		t.problemf("the header %s", note)
	}
	if alg, ok := header["alg"].(string); !ok || alg == "" {
		t.problemf("the header has no alg (RFC 7515 §4.1.1)")
	}
	if kid, ok := header["kid"]; ok {
		if _, ok := kid.(string); !ok {
			t.problemf("the header's kid is not a string (RFC 7515 §4.1.4)")
		}
	}
	if len(segs) != 3 {
		t.problemf("the token has %d segments; a signed JWT has 3, header.payload.signature (RFC 7515 §7.1)", len(segs))
	}
	if len(segs) >= 2 {
		t.claims = t.payload(segs[1])
	}
	if len(segs) == 3 {
		t.compact = tok
		_, note, err := b64(segs[2])
		switch {
		case err != nil:
			t.problemf("the signature is not base64url (%v)", err)
		case note != "":
			t.problemf("the signature %s", note)
		}
	}
	return t, nil
}

// payload decodes the claims set, which RFC 7519 §7.2 requires to be a
// JSON object; nil when it is not.
func (t *token) payload(seg string) map[string]any {
	b, note, err := b64(seg)
	if err != nil {
		t.problemf("the payload is not base64url (%v)", err)
		return nil
	}
	if note != "" {
		t.problemf("the payload %s", note)
	}
	if len(b) == 0 {
		t.problemf("the payload is empty")
		return nil
	}
	claims, err := object(b)
	if err != nil {
		t.problemf("the payload is not a JSON object (%v)", err)
		return nil
	}
	return claims
}

func (t *token) problemf(format string, args ...any) {
	t.problems = append(t.problems, fmt.Sprintf(format, args...))
}

// b64 decodes base64url without padding. When that fails but a common
// mistake decodes, it returns the bytes with a note naming the mistake.
func b64(s string) ([]byte, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		return b, "", nil
	}
	for _, alt := range []struct {
		enc  *base64.Encoding
		note string
	}{
		{base64.URLEncoding, `is padded with "="; RFC 7515 §2 requires base64url without padding`},
		{base64.RawStdEncoding, `uses the base64 alphabet ("+", "/") instead of base64url's ("-", "_"), RFC 7515 §2`},
		{base64.StdEncoding, `is padded standard base64; RFC 7515 §2 requires base64url without padding`},
	} {
		if b, alterr := alt.enc.DecodeString(s); alterr == nil {
			return b, alt.note, nil
		}
	}
	return nil, "", err
}

// object parses one JSON object, keeping numbers exact.
func object(b []byte) (map[string]any, error) {
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return nil, errors.New("it does not start with {")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return m, nil
}

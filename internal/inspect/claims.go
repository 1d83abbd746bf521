package inspect

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/term"
)

// checkClaims checks the registered claims every JWT consumer must
// (RFC 7519 §4.1, RFC 8725 §3.8–3.9, OpenID Connect Core §3.1.3.7 items 2,
// 3, 9 and 10, RFC 9068 §4).
func checkClaims(c map[string]any, o Options) []Check {
	now := o.Now()
	checks := []Check{
		checkIss(c, o),
		checkAud(c, o.Audience),
		checkExp(c, now, o.Skew),
		checkNbf(c, now, o.Skew),
		checkIat(c, now, o.Skew),
	}
	if o.KeyJKT != "" {
		checks = append(checks, checkCnf(c, o.KeyJKT))
	}
	return checks
}

// checkCnf compares the key a DPoP-bound access token names (cnf.jkt,
// RFC 9449 §6.1) with the key sesame holds: a token bound to another key
// is useless here, and one bound to none would be a bearer token.
func checkCnf(c map[string]any, jkt string) Check {
	ck := Check{Name: "cnf"}
	cnf, _ := c["cnf"].(map[string]any)
	got, _ := cnf["jkt"].(string)
	switch {
	case got == "":
		ck.Detail = "no cnf.jkt: the token is not bound to a DPoP key, although the login is"
	case got != jkt:
		ck.Detail = fmt.Sprintf("bound to another key (cnf.jkt %s), not to the stored one (%s)", term.Clean(got), jkt)
	default:
		ck.OK, ck.Detail = true, "bound to the stored DPoP key (jkt "+jkt+")"
	}
	return ck
}

// checkIss compares iss exactly, as OpenID Connect Core §3.1.3.7 item 2
// requires: a trailing slash is a different issuer.
func checkIss(c map[string]any, o Options) Check {
	ch := Check{Name: "iss"}
	iss, isString := c["iss"].(string)
	switch {
	case c["iss"] == nil:
		ch.Detail = "no iss claim, so the token's origin is unknown (RFC 7519 §4.1.1)"
	case !isString:
		ch.Detail = "iss is not a string (RFC 7519 §4.1.1)"
	case o.Issuer == "" && o.JWKSURL == "":
		// The token chose the server that vouches for it: a forger names
		// their own issuer and signs with their own key. The signature
		// check then proves nothing, so the token is not called valid.
		ch.Detail = iss + " (not pinned: no expected issuer was given, so the keys came from the token's own iss and a matching signature proves nothing; give the issuer with --issuer or a profile)"
	case o.Issuer == "":
		ch.OK = true
		ch.Detail = iss + " (not checked: no expected issuer was given)"
	case iss != o.Issuer:
		ch.Detail = fmt.Sprintf("%q, expected %q", iss, o.Issuer)
		if strings.TrimSuffix(iss, "/") == strings.TrimSuffix(o.Issuer, "/") {
			ch.Detail += " (a trailing slash differs; issuers must match exactly)"
		}
	default:
		ch.OK, ch.Detail = true, iss
	}
	return ch
}

// checkAud looks for the expected audience in aud, a string or an array of
// strings (RFC 7519 §4.1.3). With several audiences azp names the client
// the token was issued to (OpenID Connect Core §2), so it is shown.
func checkAud(c map[string]any, want string) Check {
	ch := Check{Name: "aud"}
	auds, ok := stringList(c["aud"])
	if !ok {
		ch.Detail = "aud is neither a string nor an array of strings (RFC 7519 §4.1.3)"
		return ch
	}
	show := "[" + strings.Join(auds, ", ") + "]"
	if len(auds) > 1 {
		if azp, ok := c["azp"].(string); ok {
			show += ", azp " + azp
		} else {
			show += ", no azp"
		}
	}
	switch {
	case want == "" && len(auds) == 0:
		ch.OK, ch.Detail = true, "no aud claim (not checked: no expected audience was given)"
	case want == "":
		ch.OK, ch.Detail = true, show+" (not checked: no expected audience was given)"
	case len(auds) == 0:
		ch.Detail = fmt.Sprintf("no aud claim; expected %q", want)
	case !slices.Contains(auds, want):
		ch.Detail = fmt.Sprintf("%s does not include %q", show, want)
	default:
		ch.OK, ch.Detail = true, show
	}
	return ch
}

// checkExp: the token must not be used at or after exp (RFC 7519 §4.1.4).
// A JWT without exp never expires, which no provider should issue.
func checkExp(c map[string]any, now time.Time, skew time.Duration) Check {
	ch := Check{Name: "exp"}
	t, present, err := numericDate(c, "exp")
	switch {
	case !present:
		ch.Detail = "no exp claim: the token never expires (RFC 7519 §4.1.4)"
	case err != nil:
		ch.Detail = err.Error()
	case !now.Before(t.Add(skew)):
		ch.Detail = fmt.Sprintf("expired %s (%s)", term.Relative(t, now), term.Stamp(t))
	case !now.Before(t):
		ch.OK, ch.Detail = true, fmt.Sprintf("expired %s (%s), within the %s clock skew allowed", term.Relative(t, now), term.Stamp(t), term.Short(skew))
	default:
		ch.OK, ch.Detail = true, fmt.Sprintf("expires %s (%s)", term.Relative(t, now), term.Stamp(t))
	}
	return ch
}

// checkNbf: the token must not be used before nbf (RFC 7519 §4.1.5).
func checkNbf(c map[string]any, now time.Time, skew time.Duration) Check {
	ch := Check{Name: "nbf", OK: true}
	t, present, err := numericDate(c, "nbf")
	switch {
	case !present:
		ch.Detail = "no nbf claim (optional)"
	case err != nil:
		ch.OK, ch.Detail = false, err.Error()
	case t.After(now.Add(skew)):
		ch.OK, ch.Detail = false, fmt.Sprintf("not valid until %s, %s: is a clock wrong?", term.Stamp(t), term.Relative(t, now))
	default:
		ch.Detail = fmt.Sprintf("valid since %s (%s)", term.Relative(t, now), term.Stamp(t))
	}
	return ch
}

// checkIat: a token issued in the future means a clock is wrong, the
// provider's or this machine's (RFC 7519 §4.1.6, OpenID Connect Core
// §3.1.3.7 item 10).
func checkIat(c map[string]any, now time.Time, skew time.Duration) Check {
	ch := Check{Name: "iat", OK: true}
	t, present, err := numericDate(c, "iat")
	switch {
	case !present:
		ch.Detail = "no iat claim"
	case err != nil:
		ch.OK, ch.Detail = false, err.Error()
	case t.After(now.Add(skew)):
		ch.OK, ch.Detail = false, fmt.Sprintf("issued %s in the future (%s): the provider's clock or this machine's is wrong", term.Short(t.Sub(now)), term.Stamp(t))
	default:
		ch.Detail = fmt.Sprintf("issued %s (%s)", term.Relative(t, now), term.Stamp(t))
	}
	return ch
}

// numericDate reads a NumericDate claim: seconds since the epoch, possibly
// fractional (RFC 7519 §2).
func numericDate(c map[string]any, name string) (t time.Time, present bool, err error) {
	v, present := c[name]
	if !present || v == nil {
		return time.Time{}, false, nil
	}
	var f float64
	switch n := v.(type) {
	case json.Number:
		f, err = n.Float64()
	case float64:
		f = n
	default:
		err = fmt.Errorf("%T", v)
	}
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		return time.Time{}, true, fmt.Errorf("%s is not a number of seconds (a NumericDate, RFC 7519 §2)", asJSON(v))
	case f > 1e11:
		return time.Time{}, true, fmt.Errorf("%s is beyond the year 5000: milliseconds where RFC 7519 §2 wants seconds?", asJSON(v))
	case f < 0:
		return time.Time{}, true, fmt.Errorf("%s is before 1970", asJSON(v))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, nil
}

// asJSON is v as JSON text, for messages.
func asJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// strings1 reads a string-or-array-of-strings claim such as aud.
func stringList(v any) ([]string, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case string:
		return []string{v}, true
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

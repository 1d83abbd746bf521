package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sesame-cli/sesame/internal/provider"
)

// checkJWKS fetches the JWK Set (RFC 7517 §5) and lists its keys as
// "kid kty alg use". Each key is parsed on its own with go-jose, the
// library that verifies ID tokens, so one key it cannot read is named
// instead of hiding the others. It returns the response for the clock
// check, nil when there was none.
func checkJWKS(ctx context.Context, o Options, jwksURI string) (*response, Item) {
	const check = "jwks"
	resp, err := get(ctx, o, jwksURI)
	if err != nil {
		return nil, failFetch(check, err)
	}
	if resp.Status != http.StatusOK {
		return resp, fail(check, fmt.Sprintf("%s answered HTTP %d", jwksURI, resp.Status),
			"ID tokens cannot be verified without the keys; check jwks_uri at the provider")
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(resp.Body, &set); err != nil {
		what := err.Error()
		if resp.isHTML() {
			what = "an HTML page"
		}
		return resp, fail(check, fmt.Sprintf("not a JWK Set: %s returned %s", jwksURI, what),
			"jwks_uri must serve {\"keys\": [...]} (RFC 7517 §5); check it at the provider")
	}
	if len(set.Keys) == 0 {
		return resp, fail(check, "no keys at "+jwksURI+": no ID token can be verified",
			"the provider has no signing key published; check its key configuration")
	}
	var lines, problems []string
	usable, noKid := 0, 0
	for i, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			lines = append(lines, fmt.Sprintf("key %d unreadable", i+1))
			problems = append(problems, fmt.Sprintf("key %d: %v", i+1, err))
			continue
		}
		var hdr struct {
			Kty string `json:"kty"`
		}
		_ = json.Unmarshal(raw, &hdr)
		lines = append(lines, strings.Join([]string{orDash(k.KeyID), orDash(hdr.Kty), orDash(k.Algorithm), orDash(k.Use)}, " "))
		if hdr.Kty == "oct" {
			problems = append(problems, fmt.Sprintf("key %s is symmetric (oct): a secret has no place in a public JWK Set", orDash(k.KeyID)))
			continue
		}
		usable++
		if k.KeyID == "" {
			noKid++
		}
	}
	detail := fmt.Sprintf("%d key(s): %s", len(set.Keys), strings.Join(lines, "; "))
	if usable == 0 {
		return resp, fail(check, detail+" — no usable public key; "+strings.Join(problems, "; "),
			"publish an asymmetric signing key (RSA, EC or OKP) at jwks_uri")
	}
	// RFC 7517 §4.5: kid is how a verifier picks among several keys; without
	// it, a key rotation can make ID tokens fail to verify.
	if noKid > 0 && len(set.Keys) > 1 {
		problems = append(problems, fmt.Sprintf("%d key(s) without kid among several", noKid))
	}
	if len(problems) > 0 {
		return resp, warn(check, detail+" — "+strings.Join(problems, "; "),
			"check the provider's key configuration; sesame uses only asymmetric keys")
	}
	return resp, ok(check, detail)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// checkIDTokenAlgs reads id_token_signing_alg_values_supported (OpenID
// Connect Discovery §3, required of an OpenID provider) and looks for one
// sesame accepts (provider.SigningAlgs: HMAC needs a secret a public client
// does not have, and "none" is no signature at all).
func checkIDTokenAlgs(md *provider.Metadata, oidc bool) Item {
	const check = "id_token_algs"
	algs := md.IDTokenSigningAlgValuesSupported
	list := strings.Join(algs, ", ")
	switch {
	case len(algs) == 0 && !oidc:
		return ok(check, "not advertised: a plain OAuth 2.0 server issues no ID tokens")
	case len(algs) == 0:
		return warn(check, "not advertised (OpenID Connect Discovery §3 requires it)",
			"if ID tokens fail verification, check the client's signing algorithm at the provider")
	case !slices.ContainsFunc(algs, provider.AcceptsAlg):
		return fail(check, "only "+list+": sesame accepts only asymmetric signatures checked against the JWKS",
			"configure the client to sign ID tokens with RS256 or ES256")
	case slices.Contains(algs, "none"):
		return warn(check, list+": unsigned ID tokens are offered; sesame refuses them",
			"disable alg none at the provider")
	default:
		return ok(check, list)
	}
}

// Clock skew thresholds. Under skewOK nobody notices; past skewFail the
// provider's exp, iat and nbf stop meaning what they say here: tokens look
// fresher or staler than they are, and ID token verification allows only
// provider.ClockSkew, which is therefore the threshold.
const (
	skewOK   = 10 * time.Second
	skewFail = provider.ClockSkew
)

// checkClock compares the provider's clock (the HTTP Date header, RFC 9110
// §6.6.1) with this machine's. The discovery response is preferred; a
// cached one may carry an old Date, which get corrects by Age.
func checkClock(disc, jwks *response) Item {
	const check = "clock"
	r := disc
	if r == nil || r.date.IsZero() {
		r = jwks
	}
	if r == nil || r.date.IsZero() {
		return warn(check, "no Date header from the provider: clock skew cannot be measured",
			"make sure this machine's clock is synchronised (NTP)")
	}
	// Date has one-second resolution, so a second of skew is noise.
	off := r.date.Sub(r.at).Round(time.Second)
	abs := max(off, -off)
	rel := "ahead of"
	if off < 0 {
		rel = "behind"
	}
	detail := fmt.Sprintf("the provider's clock is %s %s this machine's", abs, rel)
	switch {
	case abs < skewOK:
		return ok(check, fmt.Sprintf("within %s of the provider's clock (offset %s)", skewOK, off))
	case abs <= skewFail:
		return warn(check, detail, "synchronise this machine's clock (NTP)")
	default:
		return fail(check, detail+": token expiry and ID token checks will misbehave",
			fmt.Sprintf("synchronise this machine's clock (NTP); ID token checks allow only %s", provider.ClockSkew))
	}
}

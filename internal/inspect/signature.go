package inspect

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/sesame-cli/sesame/internal/provider"
)

// keyFit is the key an algorithm needs: its JWK kty and, for curves, crv
// (RFC 7518 §3.1, RFC 8037 §3.1).
type keyFit struct{ kty, crv string }

// keyFor is the key alg needs: RSA for RS* and PS* (RFC 7518 §3.3, §3.5),
// EC on the curve an ES algorithm names (§3.4), Ed25519 for EdDSA
// (RFC 8037 §3.1). Which algorithms are verified at all is not decided
// here but by provider.SigningAlgs; for any other alg the answer is the
// zero keyFit, which no key fits.
func keyFor(alg string) keyFit {
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		return keyFit{"RSA", ""}
	case alg == "ES256":
		return keyFit{"EC", "P-256"}
	case alg == "ES384":
		return keyFit{"EC", "P-384"}
	case alg == "ES512":
		return keyFit{"EC", "P-521"}
	case alg == "EdDSA":
		return keyFit{"OKP", "Ed25519"}
	}
	return keyFit{}
}

// refusal explains why alg is not verified at all, or is "" when it is:
// sesame verifies the asymmetric algorithms provider.VerifyIDToken accepts
// (provider.SigningAlgs). "none" and HMAC are refused before any key is
// fetched (RFC 8725 §3.1, §3.2).
func refusal(alg string) string {
	switch {
	case strings.EqualFold(alg, "none"):
		return "the token is unsigned (alg none)"
	case strings.HasPrefix(alg, "HS"):
		// Verifying HMAC with the provider's public key as the secret is
		// exactly the forgery an attacker hopes for.
		return alg + " is refused: a provider's public key is not a shared secret (algorithm confusion, RFC 8725 §2.1)"
	}
	if !provider.AcceptsAlg(alg) {
		return fmt.Sprintf("alg %q is not a signature algorithm sesame accepts (RS*, PS*, ES*, EdDSA)", alg)
	}
	return ""
}

// verifySignature checks the JWS signature (RFC 7515 §5.2) with a key from
// the issuer's JWK Set, chosen by kid (RFC 7515 §4.1.4). Keys embedded in or
// pointed at by the header (jwk, jku, x5u, x5c) are never used: the token
// cannot vouch for itself (RFC 8725 §3.10).
func verifySignature(ctx context.Context, t *token, o Options) Check {
	c := Check{Name: "signature"}
	alg, _ := t.header["alg"].(string)
	if c.Detail = refusal(alg); c.Detail != "" {
		return c
	}
	jws, err := jose.ParseSignedCompact(t.compact, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		c.Detail = "the token is not a JWS sesame can read: " + strings.TrimPrefix(err.Error(), "go-jose/go-jose: ")
		return c
	}
	src, err := keysURL(ctx, t, o)
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	set, err := fetchJWKS(ctx, o.HTTP, src, false)
	kid, hasKid := t.header["kid"].(string)
	if err == nil && hasKid && !set.has(kid) {
		// Providers rotate keys, and a cache in between may still serve the
		// set from before this token's key was published: ask once more.
		set, err = fetchJWKS(ctx, o.HTTP, src, true)
	}
	if err != nil {
		c.Detail = fmt.Sprintf("could not fetch the keys: %v (the token may still be fine)", err)
		return c
	}
	c.OK, c.Detail = set.verify(jws, alg, kid, hasKid)
	return c
}

// keysURL is where the keys are: the given JWKS URL, else the jwks_uri of
// the expected issuer, else of the token's own iss.
func keysURL(ctx context.Context, t *token, o Options) (string, error) {
	if o.JWKSURL != "" {
		return o.JWKSURL, nil
	}
	issuer := o.Issuer
	if issuer == "" {
		issuer, _ = t.claims["iss"].(string)
	}
	if issuer == "" {
		return "", errors.New("cannot find the keys: the token has no iss, and no issuer or JWKS URL was given")
	}
	md, err := provider.Discover(ctx, o.HTTP, issuer)
	if err != nil {
		return "", fmt.Errorf("could not discover the keys of %s: %v (the token may still be fine)", issuer, err)
	}
	if md.JWKSURI == "" {
		return "", fmt.Errorf("%s publishes no jwks_uri, so its signatures cannot be checked", issuer)
	}
	return md.JWKSURI, nil
}

// verify tries the keys that may have signed: the one with kid, or without
// a kid every key that fits alg. It reports what it tried, since "which key
// should have signed this" is often the very question.
func (s *jwks) verify(jws *jose.JSONWebSignature, alg, kid string, hasKid bool) (bool, string) {
	var tried, unfit []string
	var odd error // a failure other than a wrong signature, e.g. an unsupported crit
	for i, k := range s.keys {
		if hasKid && k.KeyID != kid {
			continue
		}
		if why := misfit(k, alg); why != "" {
			unfit = append(unfit, fmt.Sprintf("key %s %s", keyName(k, i), why))
			continue
		}
		_, err := jws.Verify(k.Public())
		if err == nil {
			return true, fmt.Sprintf("%s, key %s from %s", alg, keyName(k, i), s.url)
		}
		if !errors.Is(err, jose.ErrCryptoFailure) {
			odd = err
		}
		tried = append(tried, keyName(k, i))
	}
	switch {
	case odd != nil:
		return false, fmt.Sprintf("%s signature cannot be checked with key %s from %s: %s", alg, strings.Join(tried, ", "), s.url, strings.TrimPrefix(odd.Error(), "go-jose/go-jose: "))
	case len(tried) > 0:
		return false, fmt.Sprintf("%s signature does not verify against key %s from %s: the token was altered, or signed with another key", alg, strings.Join(tried, ", "), s.url)
	case len(unfit) > 0 && hasKid:
		return false, fmt.Sprintf("%s cannot verify %s: %s", s.url, alg, strings.Join(unfit, "; "))
	case hasKid && s.skipped[kid] != "":
		return false, fmt.Sprintf("key kid=%s in %s cannot be used: %s", kid, s.url, s.skipped[kid])
	case hasKid:
		return false, fmt.Sprintf("no key with kid %q in %s, even after fetching it again (it has %s): the token comes from another issuer, or its key was retired", kid, s.url, s.kids())
	default:
		return false, fmt.Sprintf("the token has no kid and no key in %s fits %s (it has %s)", s.url, alg, s.kids())
	}
}

// misfit says why k must not verify alg, or "" when it may: a key marked
// for encryption (RFC 7517 §4.2), for another algorithm (§4.4), or of the
// wrong type.
func misfit(k jose.JSONWebKey, alg string) string {
	kty, crv := keyType(k.Key)
	want := keyFor(alg)
	switch {
	case k.Use == "enc":
		return "is an encryption key (use enc)"
	case k.Algorithm != "" && k.Algorithm != alg:
		return fmt.Sprintf("is for %s, not %s", k.Algorithm, alg)
	case kty != want.kty:
		return fmt.Sprintf("is %s; %s needs %s", kty, alg, want.kty)
	case crv != want.crv:
		return fmt.Sprintf("is on %s; %s needs %s", crv, alg, want.crv)
	}
	return ""
}

func keyName(k jose.JSONWebKey, i int) string {
	if k.KeyID == "" {
		return fmt.Sprintf("#%d (no kid)", i+1)
	}
	return "kid=" + k.KeyID
}

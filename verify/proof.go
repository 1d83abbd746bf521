package verify

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"
)

// proofInfo is what a good proof tells its checker.
type proofInfo struct {
	jkt, jti string
	iat      time.Time
}

// CheckProof checks a DPoP proof (RFC 9449 §4.3) for a request with
// method to url, presenting accessToken ("" when it presents none, as at
// a token endpoint): a JWT with typ dpop+jwt, signed ES256 or EdDSA by
// the public key in its jwk header, whose htm and htu name the request
// (htu compared without query and fragment, after the normalisation of
// RFC 3986 §6.2.2 and §6.2.3), whose iat is less than maxAge+leeway ago
// and at most leeway ahead, and whose ath is the hash of accessToken.
// maxAge and leeway are used as given (see DefaultProofMaxAge and
// DefaultLeeway).
//
// Refusals match ErrInvalidProof; an error that does not is the caller's:
// a url that is not an absolute http or https URL.
//
// It returns the thumbprint of the proof's key (RFC 7638), which the
// caller compares with the token's cnf.jkt, and the proof's jti, which
// the caller must refuse to see twice within maxAge+leeway (§11.1):
// CheckProof keeps no state. Verifier.VerifyRequest does both.
func CheckProof(proof, method, url, accessToken string, now time.Time, maxAge, leeway time.Duration) (jkt, jti string, err error) {
	p, err := checkProof(proof, method, url, accessToken, now, maxAge, leeway)
	return p.jkt, p.jti, err
}

func checkProof(proof, method, rawURL, accessToken string, now time.Time, maxAge, leeway time.Duration) (proofInfo, error) {
	var p proofInfo
	j, err := parseCompact(proof, maxProofLen)
	if err != nil {
		return p, proofError("the DPoP proof is not a signed JWT in compact form (RFC 9449 §4.2)")
	}
	alg := j.headerString("alg")
	switch {
	case !typIs(j.headerString("typ"), "dpop+jwt"):
		return p, proofError("the DPoP proof's typ is not dpop+jwt (RFC 9449 §4.2)")
	case alg != algES256 && alg != algEdDSA:
		return p, proofError("the DPoP proof is not signed with ES256 or EdDSA")
	case j.critical():
		return p, proofError("the DPoP proof's header requires extensions this verifier does not know (RFC 7515 §4.1.11)")
	}
	m, ok := j.header["jwk"].(map[string]any)
	if !ok {
		return p, proofError("the DPoP proof's header carries no public key (jwk)")
	}
	key, keyAlg, thumb, err := parseJWK(m)
	if err != nil {
		return p, proofError("the DPoP proof's jwk " + err.Error())
	}
	if keyAlg != alg {
		return p, proofError("the DPoP proof's alg does not fit the type of its key")
	}
	if !j.verify(alg, key) {
		return p, proofError("the DPoP proof's signature does not verify")
	}
	c, err := proofClaims(j.payload)
	if err != nil {
		return p, err
	}
	want, err := htu(rawURL)
	if err != nil {
		return p, errors.New("verify: the request URL to check the DPoP proof against is not an absolute http or https URL")
	}
	got, err := htu(c.HTU)
	iat := unixTime(c.IAT)
	switch {
	case c.JTI == "":
		return p, proofError("the DPoP proof has no jti")
	case c.HTM != method:
		return p, proofError("the DPoP proof is for another HTTP method (htm)")
	case err != nil || got != want:
		return p, proofError("the DPoP proof is for another URL (htu)")
	case c.IAT <= 0:
		return p, proofError("the DPoP proof has no issued-at time (iat)")
	case iat.After(now.Add(leeway)):
		return p, proofError("the DPoP proof is issued in the future: check the clocks")
	case !now.Before(iat.Add(maxAge + leeway)):
		return p, proofError("the DPoP proof is too old: make a new one for each request")
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		if subtle.ConstantTimeCompare([]byte(c.ATH), []byte(b64(sum[:]))) != 1 {
			return p, proofError("the DPoP proof is not for this access token (ath)")
		}
	}
	return proofInfo{jkt: thumb, jti: c.JTI, iat: iat}, nil
}

// claimsOfProof are the claims of RFC 9449 §4.2 that this package reads;
// a nonce is ignored, since it asks for none.
type claimsOfProof struct {
	JTI, HTM, HTU, ATH string
	IAT                float64
}

// proofClaims reads a proof's payload, refusing a claim of the wrong type.
func proofClaims(payload []byte) (claimsOfProof, error) {
	var c claimsOfProof
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil || raw == nil {
		return c, proofError("the DPoP proof's payload is not a JSON object")
	}
	for _, s := range [...]struct {
		name string
		dst  *string
	}{{"jti", &c.JTI}, {"htm", &c.HTM}, {"htu", &c.HTU}, {"ath", &c.ATH}} {
		if v, ok := raw[s.name]; ok {
			str, ok := v.(string)
			if !ok {
				return c, proofError("the DPoP proof's " + s.name + " claim is not a string")
			}
			*s.dst = str
		}
	}
	if v, ok := raw["iat"]; ok {
		f, ok := v.(float64)
		if !ok || f <= 0 || f > maxDate {
			return c, proofError("the DPoP proof's iat claim is not a date in seconds since 1970")
		}
		c.IAT = f
	}
	return c, nil
}

// htu is a URL as proofs name it and servers compare it (RFC 9449 §4.2,
// §4.3): without query and fragment (and userinfo); scheme and host in
// lower case; no default port; "/" for an empty path; percent-encodings
// in upper case, and none for unreserved characters (RFC 3986 §6.2.2,
// §6.2.3).
func htu(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" || u.Opaque != "" || u.Host == "" {
		return "", errors.New("not an absolute http or https URL")
	}
	host := strings.ToLower(u.Host)
	if port := u.Port(); port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		host = strings.TrimSuffix(host, ":"+port)
	}
	path := normalizePercent(u.EscapedPath())
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}

// normalizePercent decodes the percent-encoded unreserved characters of
// an escaped path and writes the other escapes' hex digits in upper case.
func normalizePercent(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' || i+2 >= len(p) {
			b.WriteByte(p[i])
			continue
		}
		hi, lo := unhex(p[i+1]), unhex(p[i+2])
		if hi < 0 || lo < 0 {
			b.WriteByte(p[i])
			continue
		}
		c := byte(hi<<4 | lo)
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(p[i+1:i+3]))
		}
		i += 2
	}
	return b.String()
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

package testidp

import (
	"cmp"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// check compares a token response with e. A wrong status ends the scenario,
// since what follows depends on it.
func (r *scenarioRun) check(e Expect, status int, body map[string]any, revokedBefore int) {
	r.t.Helper()
	if want := cmp.Or(e.Status, http.StatusOK); status != want {
		r.t.Fatalf("%s: got %d %v, want %d", r.step, status, body, want)
	}
	r.match("response", e.Body, body)
	if got := r.tg.RevokedGrants(r.t) - revokedBefore; got != map[bool]int{true: 1}[e.RevokesGrant] {
		r.t.Errorf("%s: %d grants revoked, want revokes_grant %v", r.step, got, e.RevokesGrant)
	}
	if status != http.StatusOK {
		return
	}
	at, _ := body["access_token"].(string)
	switch {
	case e.AccessToken == nil:
	case string(e.AccessToken) == `"opaque"`:
		if strings.Count(at, ".") == 2 {
			r.t.Errorf("%s: access token %.40s… is a JWT, want an opaque one", r.step, at)
		}
	default:
		var want map[string]any
		if err := json.Unmarshal(e.AccessToken, &want); err != nil {
			r.t.Fatalf("%s: access_token must be \"opaque\" or claims: %v", r.step, err)
		}
		r.match("access token", want, r.accessClaims(at, body["expires_in"]))
	}
	if e.IDToken != nil {
		id, _ := body["id_token"].(string)
		if id == "" {
			r.t.Fatalf("%s: no ID token in %v", r.step, body)
		}
		r.match("ID token", e.IDToken, r.verify(id, ""))
	}
	if c := e.Userinfo; c != nil {
		req, _ := http.NewRequest(http.MethodGet, r.md.Userinfo, nil)
		req.Header.Set("Authorization", "Bearer "+at)
		r.call("userinfo", req, c)
	}
	if c := e.Introspection; c != nil {
		req, _ := http.NewRequest(http.MethodPost, r.md.Introspection, strings.NewReader(url.Values{"client_id": {r.tg.ClientID}, "token": {at}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.call("introspection", req, c)
	}
}

// accessClaims verifies a JWT access token as a resource server would
// (RFC 9068 §4) and checks what every one must carry.
func (r *scenarioRun) accessClaims(at string, expiresIn any) map[string]any {
	r.t.Helper()
	c := r.verify(at, "at+jwt")
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	ttl, _ := expiresIn.(float64)
	// expires_in is counted when the response is built: a second may pass.
	if c["iss"] != r.tg.Issuer || c["sub"] != r.sub || c["client_id"] != r.tg.ClientID || c["jti"] == nil || exp-iat < ttl || exp-iat > ttl+1 {
		r.t.Errorf("%s: access token claims %v: want iss %s, sub %s, client_id %s, a jti and exp-iat = expires_in %v",
			r.step, c, r.tg.Issuer, r.sub, r.tg.ClientID, expiresIn)
	}
	return c
}

// verify checks a JWT's signature against the provider's JWKS, and its typ
// when typ is set, and returns its claims.
func (r *scenarioRun) verify(tok, typ string) map[string]any {
	r.t.Helper()
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES384, jose.EdDSA})
	if err != nil {
		r.t.Fatalf("%s: %.40s… is not a JWS: %v", r.step, tok, err)
	}
	h := jws.Signatures[0].Header
	if typ != "" && h.ExtraHeaders["typ"] != typ {
		r.t.Errorf("%s: typ %v, want %s", r.step, h.ExtraHeaders["typ"], typ)
	}
	keys := r.keys.Key(h.KeyID)
	if len(keys) != 1 {
		r.t.Fatalf("%s: kid %q: %d keys in the JWKS", r.step, h.KeyID, len(keys))
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		r.t.Fatalf("%s: verify against the JWKS: %v", r.step, err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		r.t.Fatalf("%s: claims: %v", r.step, err)
	}
	return c
}

func (r *scenarioRun) call(what string, req *http.Request, want *ExpectCall) {
	r.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body) // a 401 may have no body
	if resp.StatusCode != want.Status {
		r.t.Errorf("%s: %s answered %d %v, want %d", r.step, what, resp.StatusCode, body, want.Status)
		return
	}
	r.match(what, want.Body, body)
}

func (r *scenarioRun) post(u string, form url.Values) (int, map[string]any) {
	r.t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		r.t.Fatalf("%s: %s answered %d with no JSON: %v", r.step, u, resp.StatusCode, err)
	}
	return resp.StatusCode, body
}

// match reports each field of want that got lacks or has otherwise; a
// null in want means the field must be absent.
func (r *scenarioRun) match(what string, want, got map[string]any) {
	r.t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[k]
		switch w := want[k]; {
		case w == nil && ok:
			r.t.Errorf("%s: %s has %s = %v, want none", r.step, what, k, g)
		case w != nil && (!ok || !reflect.DeepEqual(w, g)):
			r.t.Errorf("%s: %s has %s = %v, want %v", r.step, what, k, g, w)
		}
	}
}

func (r *scenarioRun) getJSON(u string, v any) {
	r.t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		r.t.Fatalf("%s: %v", u, err)
	}
}

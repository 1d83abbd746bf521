package sessionbroker

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The log gets a line for every session event and refusal, and never a
// token, code, verifier, sealed session, proof or secret.
func TestLogsHoldNoSecrets(t *testing.T) {
	hs, fs := newFlakyHarness(t)
	k := newDPoPKey(t)
	secrets := []string{alphaSecret, betaSecret}
	keep := func(a answer) answer {
		for _, name := range []string{"access_token", "refresh_token"} {
			if s := a.str(name); s != "" {
				secrets = append(secrets, s)
			}
		}
		if s, err := hs.keys.Open(a.str("refresh_token")); err == nil {
			secrets = append(secrets, s.UpstreamRefreshToken)
		}
		return a
	}
	post := func(route string, form url.Values, proofs ...string) answer {
		for _, v := range form {
			secrets = append(secrets, v[0])
		}
		secrets = append(secrets, proofs...)
		return keep(hs.post(t, route, form, proofs...))
	}
	for _, p := range []string{"alpha", "beta"} {
		a := post(routeToken, hs.authorize(t, p).form(), hs.proof(t, k))
		renewed := post(routeToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.str("refresh_token")}}, hs.proof(t, k))
		post(routeToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.str("refresh_token")}}, hs.proof(t, k)) // reuse
		post(routeToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {renewed.str("refresh_token")}}, hs.proof(t, newDPoPKey(t)))
		post(routeIntrospect, url.Values{"token": {renewed.str("access_token")}})
		post(routeRevoke, url.Values{"token": {renewed.str("refresh_token")}})
		l := hs.authorize(t, p)
		l.nonce = randomString(20)
		post(routeToken, l.form(), hs.proof(t, k))
		hs.idps[p].FailNext(1, http.StatusBadRequest, "application/json", `{"error":"invalid_client","error_description":"bad secret"}`)
		post(routeToken, hs.authorize(t, p).form(), hs.proof(t, k))
	}
	live := post(routeToken, hs.authorize(t, "alpha").form(), hs.proof(t, k))
	fs.fail(allMethods...)
	post(routeToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {live.str("refresh_token")}}, hs.proof(t, k))
	post(routeIntrospect, url.Values{"token": {live.str("access_token")}})
	_ = hs.h.RevokeSubject(context.Background(), "u_someone")

	logs := hs.logs.String()
	for _, want := range []string{"session started", "session renewed", "session revoked", "the provider refused the grant",
		"upstream_error=invalid_client", "the session store failed", "session request refused"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log has no %q:\n%s", want, logs)
		}
	}
	for _, s := range secrets {
		if len(s) >= 8 && strings.Contains(logs, s) {
			t.Errorf("the log holds a secret (%.12s…):\n%s", s, logs)
		}
	}
	for _, s := range []string{"eyJ", "v1."} { // a JWS, a sealed session
		if strings.Contains(logs, s) {
			t.Errorf("the log holds something like a token (%q):\n%s", s, logs)
		}
	}
}

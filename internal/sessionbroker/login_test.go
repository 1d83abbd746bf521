package sessionbroker

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/sessions"
	"github.com/sesame-cli/sesame/internal/testidp"
	"github.com/sesame-cli/sesame/verify"
)

func (hs *harness) verifier() *verify.Verifier {
	return &verify.Verifier{Issuer: hs.issuer, HTTP: hs.srv.Client(), Now: hs.clk.Now}
}

func TestLoginMintsASessionTokenThatVerifies(t *testing.T) {
	for _, provider := range []string{"alpha", "beta"} { // client_secret_basic, client_secret_post
		t.Run(provider, func(t *testing.T) {
			hs := newHarness(t, harnessOptions{path: "/auth"})
			k := newDPoPKey(t)
			a := hs.start(t, provider, k)
			if a.str("token_type") != "DPoP" || a.body["expires_in"] != float64(15*60) || a.str("refresh_token") == "" {
				t.Errorf("token response = %v", a.body)
			}
			if a.str("scope") != strings.Join(DefaultScopes(), " ") {
				t.Errorf("scope = %q, want the upstream's", a.str("scope"))
			}
			if cc := a.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
			c, err := hs.verifier().Verify(context.Background(), a.str("access_token"))
			if err != nil {
				t.Fatal(err)
			}
			if c.JKT != k.Thumbprint() {
				t.Errorf("cnf.jkt = %q, want the CLI key's %q", c.JKT, k.Thumbprint())
			}
			if c.IDP != provider || c.Email != testidp.Email || c.Name != testidp.Name || c.SessionID == "" {
				t.Errorf("claims = %+v", c)
			}
			if c.Subject != sessions.SubjectFor(hs.idps[provider].Issuer, testidp.Subject) {
				t.Errorf("sub = %q, not SubjectFor the upstream user", c.Subject)
			}
			if d := hs.clk.Now().Sub(c.AuthTime); d < 0 || d > time.Minute {
				t.Errorf("auth_time = %s, want the upstream sign-in", c.AuthTime)
			}
			if hs.idps[provider].Grants("authorization_code") != 1 {
				t.Errorf("the upstream redeemed %d codes", hs.idps[provider].Grants("authorization_code"))
			}
		})
	}
}

func TestSubjectIsStablePerUserAndDistinctPerUpstream(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	v := hs.verifier()
	claims := func(provider string) *verify.Claims {
		c, err := v.Verify(context.Background(), hs.start(t, provider, newDPoPKey(t)).str("access_token"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first, second, other := claims("alpha"), claims("alpha"), claims("beta")
	if first.Subject != second.Subject {
		t.Errorf("two logins of one user: sub %q then %q", first.Subject, second.Subject)
	}
	if first.SessionID == second.SessionID {
		t.Error("two logins share a sid")
	}
	if other.Subject == first.Subject {
		t.Error("the same upstream sub at two upstreams got one broker sub")
	}
}

func TestLoginsTheBrokerRefuses(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	k := newDPoPKey(t)

	l := hs.authorize(t, "alpha")
	l.nonce = randomString(16)
	a := hs.post(t, routeToken, l.form(), hs.proof(t, k))
	wantError(t, a, http.StatusBadRequest, "invalid_grant")
	if !strings.Contains(a.str("error_description"), "nonce differs") {
		t.Errorf("nonce mismatch: %q", a.str("error_description"))
	}

	l = hs.authorize(t, "alpha")
	f := l.form()
	f.Set("provider", "nobody")
	wantError(t, hs.post(t, routeToken, f, hs.proof(t, k)), http.StatusBadRequest, "invalid_request")
	for _, p := range []string{"code", "redirect_uri", "code_verifier", "provider", "nonce"} {
		f := l.form()
		f.Del(p)
		wantError(t, hs.post(t, routeToken, f, hs.proof(t, k)), http.StatusBadRequest, "invalid_request")
	}

	// A code the upstream refuses (used already) is invalid_grant.
	l = hs.authorize(t, "alpha")
	hs.post(t, routeToken, l.form(), hs.proof(t, k))
	wantError(t, hs.post(t, routeToken, l.form(), hs.proof(t, k)), http.StatusBadRequest, "invalid_grant")

	// Any other upstream failure is 502, in the broker's own words.
	l = hs.authorize(t, "alpha")
	hs.idps["alpha"].FailNext(1, http.StatusInternalServerError, "text/html", "<p>upstream page 9f2c</p>")
	a = hs.post(t, routeToken, l.form(), hs.proof(t, k))
	wantError(t, a, http.StatusBadGateway, "server_error")
	if strings.Contains(a.str("error_description"), "9f2c") {
		t.Errorf("the upstream's body was forwarded: %q", a.str("error_description"))
	}
}

func TestLoginNeedsARecentSignIn(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	hs.idpClk["alpha"].Set(-6 * time.Minute) // MaxAuthAge is 5m
	a := hs.post(t, routeToken, hs.authorize(t, "alpha").form(), hs.proof(t, newDPoPKey(t)))
	wantError(t, a, http.StatusBadRequest, "login_required")
	if d := a.str("error_description"); !strings.Contains(d, "older than max_auth_age") || !strings.Contains(d, "log in again") {
		t.Errorf("description = %q", d)
	}
}

func TestLoginNeedsAuthTime(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	idp := hs.idps["alpha"]
	l := hs.authorize(t, "alpha")
	// An upstream that leaves auth_time out of its ID token.
	idp.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/token") {
			return false
		}
		c := idp.Claims()
		delete(c, "auth_time")
		c["nonce"] = l.nonce
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer","expires_in":60,"id_token":"` + idp.SignIDToken(c) + `"}`))
		return true
	})
	a := hs.post(t, routeToken, l.form(), hs.proof(t, newDPoPKey(t)))
	wantError(t, a, http.StatusBadRequest, "invalid_grant")
	if !strings.Contains(a.str("error_description"), "did not say when the user signed in") {
		t.Errorf("description = %q", a.str("error_description"))
	}
}

func TestLoginRefusesAnIDTokenThatDoesNotVerify(t *testing.T) {
	hs := newHarness(t, harnessOptions{})
	idp := hs.idps["alpha"]
	l := hs.authorize(t, "alpha")
	idp.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/token") {
			return false
		}
		c := idp.Claims()
		c["aud"], c["nonce"] = "another-client", l.nonce
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer","id_token":"` + idp.SignIDToken(c) + `"}`))
		return true
	})
	wantError(t, hs.post(t, routeToken, l.form(), hs.proof(t, newDPoPKey(t))), http.StatusBadGateway, "server_error")
}

package e2e

import (
	"strings"
	"testing"
)

const orgScopes = "openid profile email offline_access urn:logto:scope:organizations"

// Logto organization tokens through sesame: a member gets one, cached, a
// non-member is refused with nothing changed, and the login's own token
// keeps working. What the provider answers is TestOrganizationScenarios'.
func TestOrganizationTokens(t *testing.T) {
	requireE2E(t)
	const api = "https://api.example.test"
	idp := startIdP(t)

	alice := newEnv(t)
	if r := alice.login(idp, "--scope", orgScopes, "--resource", api); r.Code != 0 {
		t.Fatalf("login: %s", r.Stderr)
	}
	org := strings.TrimSpace(alice.mustRun("org-token", "acme").Stdout)
	c := jwtClaims(t, org)
	if c["aud"] != "urn:logto:organization:acme" || c["organization_id"] != "acme" || c["sub"] != "alice" {
		t.Errorf("organization token claims %v", c)
	}
	if again := strings.TrimSpace(alice.mustRun("org-token", "acme").Stdout); again != org {
		t.Error("organization token not cached")
	}
	withAPI := strings.TrimSpace(alice.mustRun("org-token", "globex", "--resource", api).Stdout)
	if c := jwtClaims(t, withAPI); c["aud"] != api || c["organization_id"] != "globex" {
		t.Errorf("organization token for a resource: %v", c)
	}

	bob := newEnv(t)
	bob.User = "bob"
	bob.Profile += "-bob"
	if r := bob.login(idp, "--scope", orgScopes); r.Code != 0 {
		t.Fatalf("bob login: %s\n%s", r.Stderr, bob.browserLog())
	}
	before := bob.stored()
	r := bob.run("org-token", "acme")
	if r.Code == 0 || r.Code == 4 || r.Stdout != "" || !strings.Contains(r.Stderr, "not a member") || strings.Count(strings.TrimSpace(r.Stderr), "\n") > 1 {
		t.Errorf("non-member: exit %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if bob.stored() != before {
		t.Error("a refused organization token changed the stored tokens")
	}
	if code, _ := userinfo(t, idp, strings.TrimSpace(bob.mustRun("token").Stdout)); code != 200 {
		t.Errorf("bob's own token after the refusal: %d", code)
	}
	bob.mustRun("refresh") // the refresh token was not spent by the refusal
	if g := strings.TrimSpace(bob.mustRun("org-token", "globex").Stdout); jwtClaims(t, g)["organization_id"] != "globex" {
		t.Error("bob's own organization")
	}
	if _, ev := countEvents(t, idp); ev["grant.revoked"] != 0 {
		t.Errorf("a grant was revoked: %v", ev)
	}

	// Without the organizations scope: a clear message and exit 4.
	plain := newEnv(t)
	plain.Profile += "-plain"
	if r := plain.login(idp); r.Code != 0 {
		t.Fatalf("login: %s", r.Stderr)
	}
	if r := plain.run("org-token", "acme"); r.Code != 4 || !strings.Contains(r.Stderr, "urn:logto:scope:organizations") {
		t.Errorf("without the scope: exit %d %q", r.Code, r.Stderr)
	}
}

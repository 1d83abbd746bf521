package testidp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/sesame-cli/sesame/internal/testidp"
)

// TestOrganizationScenarios runs testdata/logto-organizations.json, the
// description e2e/organizations_test.go runs against the oidc-provider
// fixture too, with organization tokens signed each way a resource server
// may meet.
func TestOrganizationScenarios(t *testing.T) {
	spec := testidp.LoadOrganizationSpec(t)
	if spec.User != testidp.Subject {
		t.Fatalf("the scenarios sign in as %s; the provider's one user is %s", spec.User, testidp.Subject)
	}
	for _, alg := range []string{"RS256", "ES384", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			spec.Run(t, func(t *testing.T) testidp.Target {
				p := testidp.New(t, testidp.Options{
					Alg: alg, Path: "/oidc", Scopes: spec.ResourceScopes, OfflineNeedsConsent: true,
					Organizations: map[string][]string{testidp.Subject: spec.Memberships},
				})
				return testidp.Target{
					Issuer: p.Issuer, ClientID: p.ClientID(),
					Authorize: func(t *testing.T, authURL string) string {
						next, err := p.Authorize(authURL, testidp.Approve)
						if err != nil {
							t.Fatal(err)
						}
						return next
					},
					RevokedGrants: func(*testing.T) int { return p.ReuseDetected() },
				}
			})
		})
	}
}

// TestOrganizationMemberships covers Options.Organizations, which only this
// provider has (the fixture's users are fixed), and the Errors counter.
func TestOrganizationMemberships(t *testing.T) {
	for _, tc := range []struct {
		name          string
		orgs          map[string][]string
		claim, member string
	}{
		{"default", nil, "[acme globex]", "globex"},
		{"configured", map[string][]string{testidp.Subject: {"initech"}}, "[initech]", "initech"},
		{"none", map[string][]string{}, "[]", ""}, // granted, so present, and empty
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testidp.New(t, testidp.Options{Organizations: tc.orgs})
			c := newClient(p)
			body := c.login(t, "openid offline_access "+testidp.OrganizationsScope)
			id, err := verifier(p, nil).Verify(context.Background(), body["id_token"].(string))
			if err != nil {
				t.Fatal(err)
			}
			var claims map[string]any
			id.Claims(&claims)
			if got := fmt.Sprint(claims["organizations"]); got != tc.claim {
				t.Errorf("organizations = %s, want %s", got, tc.claim)
			}
			orgRefresh := func(org string) (int, map[string]any) {
				return post(t, p.Endpoint("/token"), url.Values{
					"grant_type": {"refresh_token"}, "client_id": {p.ClientID()},
					"refresh_token": {body["refresh_token"].(string)}, "organization_id": {org},
				})
			}
			status, refused := orgRefresh("umbrella")
			wantError(t, status, refused, http.StatusForbidden, "access_denied")
			if tc.member != "" {
				if status, body := orgRefresh(tc.member); status != http.StatusOK {
					t.Errorf("%s: %d %v", tc.member, status, body)
				}
			}
			if p.Errors("access_denied") != 1 || p.ReuseDetected() != 0 {
				t.Errorf("access_denied %d, reuse %d", p.Errors("access_denied"), p.ReuseDetected())
			}
		})
	}
}

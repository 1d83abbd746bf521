package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/testidp"
)

// TestOrganizationScenarios runs the description of Logto's organization
// tokens (internal/testidp/testdata/logto-organizations.json) against the
// oidc-provider fixture, as internal/testidp's tests run it against the Go
// provider. It speaks HTTP to the provider itself; sesame plays no part.
// Tokens are signed with RS256, the default, and ES384, Logto's choice.
func TestOrganizationScenarios(t *testing.T) {
	requireFixture(t)
	spec := testidp.LoadOrganizationSpec(t)
	password := map[string]string{"alice": "wonderland", "bob": "builder"}[spec.User] // USERS in server.js
	for _, alg := range []string{"RS256", "ES384"} {
		t.Run(alg, func(t *testing.T) {
			// One provider for all scenarios: each login is a session and
			// a grant of its own.
			idp := startIdP(t, "--id-token-alg", alg)
			spec.Run(t, func(*testing.T) testidp.Target {
				return testidp.Target{
					Issuer: idp.Issuer, ClientID: "sesame-cli",
					Authorize: func(t *testing.T, authURL string) string { return signIn(t, idp, authURL, spec.User, password) },
					RevokedGrants: func(t *testing.T) int {
						_, ev := countEvents(t, idp)
						return ev["grant.revoked"]
					},
				}
			})
		})
	}
}

// requireFixture is requireE2E for tests that need node and the fixture
// only, not the sesame binaries, the keychain or the browser.
func requireFixture(t *testing.T) {
	t.Helper()
	if os.Getenv("SESAME_E2E") != "1" {
		t.Skip("end-to-end: set SESAME_E2E=1 (scripts/test does, with a real IdP, keychain and browser)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("end-to-end needs node: %v", err)
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "e2e", "node_modules")); err != nil {
		t.Fatal("end-to-end needs `npm ci --prefix e2e`")
	}
}

// signIn is the user at the fixture's plain-HTML login and consent pages,
// in a browser session of its own (so each login is a grant of its own): it
// follows the provider's redirects, submits the two forms, and returns the
// redirect that leaves the provider for the client.
func signIn(t *testing.T, idp *IdP, authURL, user, password string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	issuer, _ := url.Parse(idp.Issuer)
	var callback string
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != issuer.Host {
			callback = req.URL.String()
			return http.ErrUseLastResponse
		}
		return nil
	}}
	// page reads a page the provider answered with and returns its address.
	page := func(resp *http.Response, err error) (string, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Request.URL.String(), fmt.Sprintf("%d %s", resp.StatusCode, b)
	}
	at, body := page(c.Get(authURL))
	if !strings.Contains(body, `id="signin"`) {
		t.Fatalf("%s: not the sign-in page: %s", at, body)
	}
	at, body = page(c.PostForm(at+"/login", url.Values{"login": {user}, "password": {password}}))
	if !strings.Contains(body, `id="allow"`) {
		t.Fatalf("%s: not the consent page: %s", at, body)
	}
	at, body = page(c.PostForm(at+"/allow", nil))
	if callback == "" {
		t.Fatalf("%s: the provider did not redirect back to the client after consent: %s", at, body)
	}
	return callback
}

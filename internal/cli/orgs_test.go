package cli

import (
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/testidp"
)

const orgScopes = "openid profile email offline_access urn:logto:scope:organizations"

func TestOrgToken(t *testing.T) {
	h := newHarness(t, testidp.Options{Organizations: map[string][]string{testidp.Subject: {"acme"}}})
	h.login("--scope", orgScopes)
	code, tok, errb := h.run(testidp.Approve, "org-token", "acme")
	if code != 0 || strings.Count(tok, ".") != 2 {
		t.Fatalf("member: %d %q %s", code, tok, errb)
	}
	before := h.stored("default")
	code, out, errb := h.run(testidp.Approve, "org-token", "globex")
	if code != ExitError || out != "" || errb != "sesame: the provider refused a token for organization globex: user is not a member of the organization; check that you are a member of it\n" {
		t.Errorf("non-member: %d %q %q", code, out, errb)
	}
	if h.stored("default") != before {
		t.Error("a refusal changed the stored tokens")
	}
	if code, _, _ := h.run(testidp.Approve, "refresh"); code != 0 || h.idp.ReuseDetected() != 0 {
		t.Error("the refresh token did not survive the refusal")
	}
	if _, st, _ := h.run(testidp.Approve, "status"); !strings.Contains(st, "token:    organization acme, expires") {
		t.Errorf("status lacks the organization token:\n%s", st)
	}
	if code, _, errb := h.run(testidp.Approve, "org-token"); code != ExitUsage {
		t.Errorf("no org id: %d %s", code, errb)
	}
}

func TestOrgTokenNeedsTheScope(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login()
	code, _, errb := h.run(testidp.Approve, "org-token", "acme")
	if code != ExitLoginRequired || !strings.Contains(errb, "urn:logto:scope:organizations") || h.idp.Grants("refresh_token") != 0 {
		t.Errorf("%d %s", code, errb)
	}
}

// A new login drops the resource and organization tokens of the old grant.
func TestNewLoginDropsDerivedTokens(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login("--scope", orgScopes)
	if code, _, errb := h.run(testidp.Approve, "org-token", "acme"); code != 0 {
		t.Fatal(errb)
	}
	h.login()
	grants := h.idp.Grants("refresh_token")
	if code, _, _ := h.run(testidp.Approve, "org-token", "acme"); code != 0 || h.idp.Grants("refresh_token") != grants+1 {
		t.Error("an organization token of the previous login was served from cache")
	}
}

func TestCompletion(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login("--scope", orgScopes, "--profile", "work")
	_, out, _ := h.run(testidp.Approve, "__complete", "--profile", "")
	if !strings.Contains(out, "work\n") {
		t.Errorf("profiles:\n%s", out)
	}
	_, out, _ = h.run(testidp.Approve, "__complete", "--profile", "work", "org-token", "")
	if !strings.Contains(out, "acme\n") || !strings.Contains(out, "globex\n") {
		t.Errorf("organizations:\n%s", out)
	}
}

package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/testidp"
)

func TestInitAndProfiles(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	// Not a terminal: no prompts, so the client id must come as a flag.
	if code, _, errb := h.run(testidp.Approve, "init", h.idp.Issuer); code != ExitUsage || !strings.Contains(errb, "--client-id") {
		t.Fatalf("init without --client-id: %d %s", code, errb)
	}
	code, out, errb := h.run(testidp.Approve, "init", h.idp.Issuer, "--name", "work", "--client-id", h.idp.ClientID(), "--use")
	if code != 0 || out != "" || !strings.Contains(errb, "sesame login --profile work") {
		t.Fatalf("init: %d %q %s", code, out, errb)
	}
	if code, _, errb := h.run(testidp.Approve, "login", "--timeout", "5s"); code != 0 {
		t.Fatalf("login with the profile init wrote: %s", errb)
	}
	_, list, _ := h.run(testidp.Approve, "profile", "list")
	if !strings.Contains(list, "* work") || !strings.Contains(list, h.idp.Issuer) {
		t.Errorf("list:\n%s", list)
	}
	_, show, _ := h.run(testidp.Approve, "profile", "show", "--json")
	var p map[string]any
	if err := json.Unmarshal([]byte(show), &p); err != nil || p["client_id"] != h.idp.ClientID() || p["name"] != "work" {
		t.Errorf("show: %v %s", err, show)
	}
	h.run(testidp.Approve, "init", h.idp.Issuer, "--name", "other", "--client-id", "x", "--scope", "openid")
	if code, _, _ := h.run(testidp.Approve, "profile", "use", "other"); code != 0 {
		t.Error("use failed")
	}
	if code, _, _ := h.run(testidp.Approve, "profile", "use", "nope"); code != ExitUsage {
		t.Error("use of an unknown profile")
	}
	if code, _, errb := h.run(testidp.Approve, "profile", "remove", "work"); code != 0 || h.stored("work") != "" {
		t.Fatalf("remove: %d %s", code, errb)
	}
	if _, list, _ := h.run(testidp.Approve, "profile", "list"); strings.Contains(list, "work") {
		t.Errorf("removed profile still listed:\n%s", list)
	}
}

package cli

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/doctor"
	"github.com/sesame-cli/sesame/internal/testidp"
)

func TestDoctor(t *testing.T) {
	h := newHarness(t, testidp.Options{IssParameter: true})
	code, out, errb := h.run(testidp.Approve, "doctor", "--issuer", h.idp.Issuer)
	if code != 0 || !strings.Contains(out, "✓ issuer") || !strings.Contains(out, "✓ pkce") || strings.Contains(out, "\x1b[") {
		t.Fatalf("doctor: %d\n%s\n%s", code, out, errb)
	}

	h.login()
	code, out, errb = h.run(testidp.Approve, "doctor", "--login", "--json")
	var r doctor.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || !r.OK {
		t.Fatalf("doctor --login: %d %v\n%s\n%s", code, err, out, errb)
	}
	seen := map[string]bool{}
	for _, it := range r.Items {
		seen[it.Check] = true
	}
	for _, want := range []string{"client", "login discovery", "login preflight", "login browser", "login callback", "login exchange", "login verification", "login userinfo", "login claims"} {
		if !seen[want] {
			t.Errorf("no %q step in %v", want, seen)
		}
	}
	if h.idp.Grants("authorization_code") != 2 {
		t.Errorf("doctor --login did not sign in")
	}
}

func TestDoctorFailsOnDeadIssuer(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	code, out, _ := h.run(testidp.Approve, "doctor", "--issuer", dead)
	if code != ExitError || !strings.Contains(out, "✗ discovery") {
		t.Errorf("%d\n%s", code, out)
	}
	if code, _, _ := h.run(testidp.Approve, "doctor"); code != ExitUsage {
		t.Errorf("no issuer: %d", code)
	}
}

// doctor --client-id checks the client and its redirect URI with the
// provider, as a login would before opening the browser, and fails on a
// client the provider does not know; the browser is never opened.
func TestDoctorClientID(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	code, out, errb := h.run(testidp.Approve, "doctor", "--issuer", h.idp.Issuer, "--client-id", "nope")
	if code != ExitError || !strings.Contains(out, `✗ client: client_id "nope" with redirect URI http://127.0.0.1:`) ||
		!strings.Contains(out, `→ check client_id "nope" at the provider`) {
		t.Errorf("unknown client: %d\n%s\n%s", code, out, errb)
	}
	code, out, errb = h.run(testidp.Approve, "doctor", "--issuer", h.idp.Issuer, "--client-id", h.idp.ClientID())
	if code != 0 || !strings.Contains(out, "✓ client: ") {
		t.Errorf("known client: %d\n%s\n%s", code, out, errb)
	}
	if h.idp.Grants("authorization_code") != 0 {
		t.Error("doctor --client-id signed in")
	}
}

package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/testidp"
)

func TestClaims(t *testing.T) {
	h := newHarness(t, testidp.Options{Alg: "ES384", Organizations: map[string][]string{testidp.Subject: {"acme"}}})
	h.login("--scope", orgScopes)

	code, out, errb := h.run(testidp.Approve, "claims")
	if code != 0 || !strings.Contains(out, "alice") || !strings.Contains(out, "ES384") {
		t.Fatalf("claims: %d\n%s\n%s", code, out, errb)
	}
	code, out, _ = h.run(testidp.Approve, "claims", "--json")
	var r struct {
		Token    string
		Header   map[string]any
		Claims   map[string]any
		Valid    bool
		Problems []string
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || !r.Valid || len(r.Problems) != 0 || r.Header["alg"] != "ES384" || r.Claims["aud"] != h.idp.ClientID() {
		t.Fatalf("claims --json: %d %v %s", code, err, out)
	}

	// The same token from stdin, then with one signature character flipped.
	if code, _, errb := h.runWithStdin(testidp.Approve, r.Token+"\n", "claims", "-"); code != 0 {
		t.Errorf("stdin: %d %s", code, errb)
	}
	last := r.Token[len(r.Token)-2]
	flip := byte('A')
	if last == 'A' {
		flip = 'B'
	}
	tampered := r.Token[:len(r.Token)-2] + string(flip) + r.Token[len(r.Token)-1:]
	code, _, errb = h.runWithStdin(testidp.Approve, tampered, "claims", "-")
	if code != ExitError || !strings.Contains(errb, "signature") {
		t.Errorf("tampered: %d %s", code, errb)
	}

	if code, _, errb := h.run(testidp.Approve, "claims", "--audience", "someone-else"); code != ExitError || !strings.Contains(errb, "aud") {
		t.Errorf("wrong audience: %d %s", code, errb)
	}
	if code, _, errb := h.run(testidp.Approve, "claims", "--access-token"); code != ExitError || !strings.Contains(errb, "sesame introspect") {
		t.Errorf("opaque access token: %d %s", code, errb)
	}
	if code, out, errb := h.run(testidp.Approve, "claims", "--org", "acme"); code != 0 || !strings.Contains(out, "urn:logto:organization:acme") {
		t.Errorf("organization token: %d\n%s\n%s", code, out, errb)
	}
	forged := testidp.ForgeJWT(map[string]any{"alg": "none"}, h.idp.Claims(), nil)
	if code, _, errb := h.runWithStdin(testidp.Approve, forged, "claims", "-"); code != ExitError || !strings.Contains(errb, "none") {
		t.Errorf("alg none: %d %s", code, errb)
	}
}

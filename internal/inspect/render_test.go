package inspect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/inspect"
)

func TestRender(t *testing.T) {
	p := newIdP(t, "ES384")
	claims := p.Claims()
	claims["scope"] = strings.Repeat("read:things write:things ", 12)
	claims["organizations"] = []string{"acme", "globex"}
	claims["name"] = "Eve\x1b[2J\x1b[31m\u202e"
	claims["https://example.com/claims/tenant"] = "t-1"
	now := issued.Add(5 * time.Minute)
	r, err := inspect.Inspect(context.Background(), p.SignIDToken(claims), inspect.Options{Issuer: p.Issuer, Audience: p.ClientID(), Now: at(5 * time.Minute)})
	if err != nil || !r.Valid {
		t.Fatalf("%v %v", r.Problems, err)
	}

	var plain bytes.Buffer
	inspect.Render(&plain, r, now, false)
	out := plain.String()
	for _, want := range []string{
		"alg=ES384  kid=" + p.Key().KeyID + "  typ=JWT\n",
		"\nexp             2026-11-22T10:00:00Z (in 55m)  ",
		"\niat             2026-11-22T09:00:00Z (5m ago)  ",
		"\nauth_time       2026-11-22T09:00:00Z (5m ago)  ",
		"\norganizations   acme, globex  ",
		inspect.Explain("iss"),
		"\nhttps://example.com/claims/tenant\n                t-1\n",
		"\n✓ signature  ES384, key kid=",
		"\n✓ exp        expires in 55m (2026-11-22T10:00:00Z)\n",
		"\nvalid\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\u202e") {
		t.Errorf("control characters in plain output:\n%q", out)
	}
	// The 300-character scope wraps onto at most 4 lines and is cut.
	scope := regexp.MustCompile(`(?m)^scope +(\S.*)\n((?: {16}\S.*\n)*)`).FindStringSubmatch(out)
	if scope == nil || strings.Count(scope[2], "\n") != 3 || !strings.Contains(scope[2], "…") {
		t.Errorf("scope not wrapped and cut: %q", scope)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "scope") && len(line) > 120 {
			t.Errorf("line too long: %q", line)
		}
	}

	var colored bytes.Buffer
	inspect.Render(&colored, r, now, true)
	if !strings.Contains(colored.String(), "\x1b[32m✓\x1b[0m signature") || strings.Contains(colored.String(), "\x1b[2J") {
		t.Errorf("colour output:\n%q", colored.String())
	}
}

func TestRenderInvalid(t *testing.T) {
	p := newIdP(t, "RS256")
	r, err := inspect.Inspect(context.Background(), p.SignIDToken(p.Claims()), inspect.Options{Issuer: p.Issuer, Audience: "api", Now: at(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	inspect.Render(&b, r, issued.Add(3*time.Hour), false)
	for _, want := range []string{
		"2026-11-22T10:00:00Z (2h ago)",
		"\n✗ aud        [test-client] does not include \"api\"\n",
		"\n✗ exp        expired 2h ago (2026-11-22T10:00:00Z)\n",
		"\nINVALID: aud: [test-client] does not include \"api\"\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}

	// A malformed token still shows what could be read, and why it failed.
	b.Reset()
	h, rest, _ := strings.Cut(p.SignIDToken(p.Claims()), ".")
	payload, _, _ := strings.Cut(rest, ".")
	r, err = inspect.Inspect(context.Background(), h+"."+payload, inspect.Options{Issuer: p.Issuer, Now: at(0)})
	if err != nil {
		t.Fatal(err)
	}
	inspect.Render(&b, r, issued, false)
	for _, want := range []string{"alg=RS256", "\nsub ", "\n✗ malformed  the token has 2 segments", "\n✗ signature  not verified", "\nINVALID: malformed: "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}

// TestReportJSON: problems and checks are arrays, never null, so that
// scripts can iterate them without a check.
func TestReportJSON(t *testing.T) {
	p := newIdP(t, "EdDSA")
	r, err := inspect.Inspect(context.Background(), p.SignIDToken(p.Claims()), inspect.Options{Issuer: p.Issuer, Now: at(0)})
	if err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(r)
	for _, want := range []string{`"problems":[]`, `"valid":true`, `"exp":1795341600`, `"name":"signature","ok":true`} {
		if !bytes.Contains(j, []byte(want)) {
			t.Errorf("JSON lacks %s: %s", want, j)
		}
	}
}

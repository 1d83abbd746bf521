package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/testidp"
)

func TestTestIdP(t *testing.T) {
	p := testidp.New(t, testidp.Options{Path: "/oidc", Alg: "ES256", IssParameter: true})
	r := run(t, Options{Issuer: p.Issuer, ClientID: p.ClientID()})
	if !r.OK || r.Issuer != p.Issuer {
		t.Fatalf("OK = %v, issuer %q\n%s", r.OK, r.Issuer, dump(r))
	}
	var checks []string
	for _, it := range r.Items {
		checks = append(checks, it.Check)
	}
	wantChecks := []string{
		"discovery", "issuer", "https",
		"authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint", "revocation_endpoint",
		"introspection_endpoint", "end_session_endpoint", "device_authorization_endpoint",
		"pkce", "grant_types", "refresh_token", "device_code", "dpop", "response_types",
		"token_endpoint_auth", "iss_parameter", "scopes", "jwks", "id_token_algs", "clock",
	}
	if !slices.Equal(checks, wantChecks) {
		t.Errorf("checks\n got %v\nwant %v", checks, wantChecks)
	}
	// testidp has no end-session or device endpoint and no device grant.
	warns := []string{"end_session_endpoint", "device_authorization_endpoint", "device_code"}
	for _, it := range r.Items {
		want := StatusOK
		if slices.Contains(warns, it.Check) {
			want = StatusWarn
		}
		if it.Status != want {
			t.Errorf("%s: %s (%s), want %s", it.Check, it.Status, it.Detail, want)
		}
	}
	for check, sub := range map[string]string{
		"discovery":           "OpenID Connect location",
		"issuer":              p.Issuer,
		"pkce":                "S256",
		"jwks":                p.Key().KeyID + " EC ES256 sig",
		"id_token_algs":       "ES256",
		"token_endpoint_auth": `public client (client "test-client") can use none`,
		"revocation_endpoint": p.Endpoint("/revoke"),
	} {
		if it := item(t, r, check); !strings.Contains(it.Detail, sub) {
			t.Errorf("%s: detail %q lacks %q", check, it.Detail, sub)
		}
	}
}

func TestTestIdPClientTypes(t *testing.T) {
	public := testidp.New(t, testidp.Options{})
	secret := testidp.New(t, testidp.Options{ClientSecret: "s3cret"})
	for _, tt := range []struct {
		name         string
		p            *testidp.IdP
		confidential bool
		want         Status
	}{
		{"public client, public IdP", public, false, StatusOK},
		{"broker, public IdP", public, true, StatusFail},
		{"public client, confidential IdP", secret, false, StatusWarn},
		{"broker, confidential IdP", secret, true, StatusOK},
	} {
		r := run(t, Options{Issuer: tt.p.Issuer, Confidential: tt.confidential})
		if it := item(t, r, "token_endpoint_auth"); it.Status != tt.want {
			t.Errorf("%s: %s (%s), want %s", tt.name, it.Status, it.Detail, tt.want)
		}
	}
}

// Options.Now is this machine's clock: moving it must move the verdict.
func TestClockUsesNow(t *testing.T) {
	p := testidp.New(t, testidp.Options{})
	for _, tt := range []struct {
		shift time.Duration
		want  Status
	}{{0, StatusOK}, {-20 * time.Second, StatusWarn}, {10 * time.Minute, StatusFail}} {
		r := run(t, Options{Issuer: p.Issuer, Now: func() time.Time { return time.Now().Add(tt.shift) }})
		if it := item(t, r, "clock"); it.Status != tt.want {
			t.Errorf("shift %s: %s (%s), want %s", tt.shift, it.Status, it.Detail, tt.want)
		}
	}
}

// Nothing listening must be reported at once: no retries, no fallback
// location, no JWKS fetch. The client has no timeout, so a pass cannot come
// from one.
func TestClosedPortFailsPromptly(t *testing.T) {
	issuer := closedURL(t)
	start := time.Now()
	r := Run(context.Background(), Options{HTTP: &http.Client{}, Issuer: issuer})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %s", d)
	}
	if r.OK || len(r.Items) != 1 {
		t.Fatalf("want one failed item\n%s", dump(r))
	}
	if it := r.Items[0]; it.Check != "discovery" || it.Status != StatusFail || !strings.Contains(it.Detail, strings.TrimPrefix(issuer, "http://")) || it.Remedy == "" {
		t.Errorf("%+v", it)
	}
}

func TestBadIssuer(t *testing.T) {
	for _, issuer := range []string{"", "login.example.com", "ftp://example.com"} {
		r := run(t, Options{Issuer: issuer})
		if r.OK || len(r.Items) != 1 || r.Items[0].Status != StatusFail || !strings.Contains(r.Items[0].Detail, "not an absolute") {
			t.Errorf("%q:\n%s", issuer, dump(r))
		}
	}
}

func TestRender(t *testing.T) {
	r := &Report{Issuer: "https://idp", Items: []Item{
		{Status: StatusOK, Check: "discovery", Detail: "200 in 35 ms", Remedy: "never shown"},
		{Status: StatusFail, Check: "issuer", Detail: "differs", Remedy: "fix it"},
		{Status: StatusWarn, Check: "pkce", Detail: "not advertised", Remedy: "confirm"},
	}}
	var plain bytes.Buffer
	Render(&plain, r, false)
	want := "✓ discovery: 200 in 35 ms\n✗ issuer: differs\n  → fix it\n! pkce: not advertised\n  → confirm\n"
	if plain.String() != want {
		t.Errorf("plain:\n%s\nwant:\n%s", plain.String(), want)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Error("ANSI codes without color")
	}
	var colored bytes.Buffer
	Render(&colored, r, true)
	for _, s := range []string{green + "✓" + reset, red + "✗" + reset, yellow + "!" + reset, "  → fix it\n"} {
		if !strings.Contains(colored.String(), s) {
			t.Errorf("colored output lacks %q:\n%q", s, colored.String())
		}
	}
}

func TestReportJSON(t *testing.T) {
	b, err := json.Marshal(&Report{Issuer: "https://idp", Items: []Item{{Status: StatusFail, Check: "issuer", Detail: "x", Remedy: "y"}, {Status: StatusOK, Check: "pkce", Detail: "S256"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"issuer":"https://idp","ok":false,"checks":[{"status":"fail","check":"issuer","detail":"x","remedy":"y"},{"status":"ok","check":"pkce","detail":"S256"}]}`
	if string(b) != want {
		t.Errorf("%s\nwant %s", b, want)
	}
}

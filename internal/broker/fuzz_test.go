package broker

import (
	"encoding/json"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func fuzzClients(t testing.TB) map[string]*client {
	cfg := Defaults()
	cfg.Clients = []Client{
		{ID: testClientID, Issuer: "https://idp.example", Secret: "s"},
		{ID: "refresh-only", Issuer: "https://idp.example", Secret: "s", GrantTypes: []string{GrantRefreshToken}},
		{ID: "app", TokenURL: "https://idp.example/token", Secret: "s", RedirectURIs: []string{"https://app.example/cb/*"}},
	}
	b, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return b.clients
}

// FuzzValidateTokenRequest feeds arbitrary bodies and headers to request
// validation and checks what it lets through: only allow-listed parameters,
// never a caller's credentials, PKCE and an allowed redirect for every code.
func FuzzValidateTokenRequest(f *testing.F) {
	form := "application/x-www-form-urlencoded"
	for _, seed := range []string{
		authCodeForm().Encode(),
		refreshForm().Encode(),
		with(refreshForm(), "resource", "https://a.example/", "resource", "https://b.example/", "organization_id", "o"),
		with(authCodeForm(), "client_secret", "x"),
		set(authCodeForm(), "redirect_uri", "http://127.0.0.1:1/../x"),
		set(authCodeForm(), "code_verifier", "short"),
		refreshForm().Encode() + "&refresh_token=again",
		"client_id=app&grant_type=authorization_code&code=c&code_verifier=" + strings.Repeat("a", 43) + "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%2Fx",
		"client_id=refresh-only&grant_type=authorization_code",
		"token=t&token_type_hint=refresh_token&client_id=" + url.QueryEscape(testClientID),
		"a=%zz", "=", "&&&", ";", "client_id=%00",
	} {
		for ep := range uint8(3) {
			f.Add(ep, form, "", seed)
		}
	}
	f.Add(uint8(0), "application/json", "", `{"grant_type":"refresh_token"}`)
	f.Add(uint8(0), form+"; charset=utf-8", "Basic eDp5", refreshForm().Encode())
	clients := fuzzClients(f)

	f.Fuzz(func(t *testing.T, ep uint8, contentType, authorization, body string) {
		endpoint := []string{epToken, epRevoke, epIntrospect}[int(ep)%3]
		a, e := validateRequest(endpoint, contentType, authorization, []byte(body), clients)
		if e != nil {
			checkRefusal(t, e)
			return
		}
		if authorization != "" {
			t.Fatal("accepted a caller's Authorization header")
		}
		if clients[a.client.id] != a.client {
			t.Fatalf("accepted an unknown client %q", a.client.id)
		}
		allowed := forwarded(endpoint, a.grantType)
		for k, vs := range a.form {
			if !slices.Contains(allowed, k) {
				t.Fatalf("forwards %q, which is not allow-listed for %s %s", k, endpoint, a.grantType)
			}
			if len(vs) != 1 && k != "resource" || slices.Contains(vs, "") {
				t.Fatalf("forwards %q = %q", k, vs)
			}
		}
		if endpoint != epToken {
			if a.form.Get("token") == "" {
				t.Fatal("accepted a revocation or introspection without a token")
			}
			return
		}
		switch a.grantType {
		case GrantAuthorizationCode:
			if !a.client.authCode || !validVerifier(a.form.Get("code_verifier")) || a.form.Get("code") == "" {
				t.Fatalf("accepted a code without PKCE or grant: %v", a.form)
			}
			if !slices.ContainsFunc(a.client.redirects, func(p redirectPattern) bool { return p.match(a.form.Get("redirect_uri")) }) {
				t.Fatalf("accepted redirect_uri %q", a.form.Get("redirect_uri"))
			}
			checkRedirectInvariants(t, a.form.Get("redirect_uri"))
		case GrantRefreshToken:
			if !a.client.refresh || a.form.Get("refresh_token") == "" {
				t.Fatalf("accepted a refresh without a grant or token: %v", a.form)
			}
		default:
			t.Fatalf("accepted grant_type %q", a.grantType)
		}
	})
}

// checkRefusal asserts a refusal is a well-formed RFC 6749 error.
func checkRefusal(t *testing.T, e *apiError) {
	t.Helper()
	if !slices.Contains([]int{400, 401, 415}, e.status) || e.code == "" || e.description == "" {
		t.Fatalf("refusal %+v", e)
	}
	w := httptest.NewRecorder()
	e.write(w)
	var doc map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || doc["error"] != e.code {
		t.Fatalf("refusal body %q: %v", w.Body.String(), err)
	}
}

// checkRedirectInvariants holds for anything the default or app patterns
// accept: no user, query, fragment or dot segment, a numeric port when one
// is present.
func checkRedirectInvariants(t *testing.T, raw string) {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || hasDotSegment(u.Path) {
		t.Fatalf("accepted redirect_uri %q", raw)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			t.Fatalf("accepted port %q", port)
		}
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); (err != nil || !a.IsLoopback()) && host != "app.example" {
		t.Fatalf("accepted host %q", host)
	}
}

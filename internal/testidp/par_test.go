package testidp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/testidp"
)

// push sends the client's authorization request to /par.
func (c *client) push(t *testing.T, scope string, edit func(url.Values)) (int, map[string]any) {
	t.Helper()
	u, _ := url.Parse(c.authURL(scope, nil))
	form := u.Query()
	if edit != nil {
		edit(form)
	}
	resp, err := http.PostForm(c.p.Endpoint("/par"), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// With Options.PAR the provider takes pushed authorization requests
// (RFC 9126) as oidc-provider does: checked like the authorization
// request, refused in JSON, used once at the authorization endpoint.
func TestPushedAuthorizationRequests(t *testing.T) {
	now := time.Now()
	p := testidp.New(t, testidp.Options{PAR: true, Now: func() time.Time { return now }})
	var md map[string]any
	getJSON(t, p.Issuer+"/.well-known/openid-configuration", &md)
	if md["pushed_authorization_request_endpoint"] != p.Endpoint("/par") {
		t.Fatalf("discovery: %v", md["pushed_authorization_request_endpoint"])
	}
	c := newClient(p)
	status, body := c.push(t, "openid", nil)
	uri, _ := body["request_uri"].(string)
	if status != 201 || !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || body["expires_in"] != float64(60) || p.Pushes() != 1 {
		t.Fatalf("push: %d %v", status, body)
	}
	authURL := p.Endpoint("/auth") + "?" + url.Values{"client_id": {p.ClientID()}, "request_uri": {uri}}.Encode()
	next, err := p.Authorize(authURL, testidp.Approve)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(next)
	if u.Query().Get("state") != c.state || u.Query().Get("code") == "" {
		t.Fatalf("redirect %s", next)
	}
	if code, _ := c.exchange(t, u.Query().Get("code")); code != 200 {
		t.Errorf("exchange of the pushed request's code: %d", code)
	}
	if _, err := p.Authorize(authURL, testidp.Approve); err == nil || !strings.Contains(err.Error(), "invalid_request_uri") {
		t.Errorf("a request_uri used twice: %v", err)
	}
	_, body = c.push(t, "openid", nil)
	now = now.Add(61 * time.Second)
	late := p.Endpoint("/auth") + "?" + url.Values{"client_id": {p.ClientID()}, "request_uri": {body["request_uri"].(string)}}.Encode()
	if _, err := p.Authorize(late, testidp.Approve); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("an expired request_uri: %v", err)
	}

	for _, tt := range []struct {
		name   string
		edit   func(url.Values)
		status int
		code   string
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "nope") }, 401, "invalid_client"},
		{"redirect_uri not on loopback", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, 400, "invalid_request"},
		{"unknown scope", func(q url.Values) { q.Set("scope", "openid admin") }, 400, "invalid_scope"},
		{"no PKCE", func(q url.Values) { q.Del("code_challenge_method") }, 400, "invalid_request"},
		{"a request_uri pushed", func(q url.Values) { q.Set("request_uri", "urn:x") }, 400, "invalid_request"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if status, body := c.push(t, "openid", tt.edit); status != tt.status || body["error"] != tt.code {
				t.Errorf("%d %v, want %d %s", status, body, tt.status, tt.code)
			}
		})
	}
}

// Without Options.PAR there is no /par, and a request_uri is refused.
func TestNoPushedRequestsByDefault(t *testing.T) {
	p := testidp.New(t, testidp.Options{})
	var md map[string]any
	getJSON(t, p.Issuer+"/.well-known/openid-configuration", &md)
	if _, ok := md["pushed_authorization_request_endpoint"]; ok {
		t.Error("PAR advertised")
	}
	if status, _ := newClient(p).push(t, "openid", nil); status != 404 {
		t.Errorf("/par answered %d", status)
	}
	if _, err := p.Authorize(p.Endpoint("/auth")+"?client_id="+p.ClientID()+"&request_uri=urn:x", testidp.Approve); err == nil {
		t.Error("a request_uri was taken")
	}
}

// Options.ExactRedirect matches redirect URIs exactly, port included.
func TestExactRedirect(t *testing.T) {
	p := testidp.New(t, testidp.Options{ExactRedirect: "http://127.0.0.1:8765/callback"})
	c := newClient(p)
	if _, err := p.Authorize(c.authURL("openid", nil), testidp.Approve); err == nil || !strings.Contains(err.Error(), "is not the registered redirect URI http://127.0.0.1:8765/callback") {
		t.Errorf("another port: %v", err)
	}
	c.redirect = "http://127.0.0.1:8765/callback"
	if _, err := p.Authorize(c.authURL("openid", nil), testidp.Approve); err != nil {
		t.Errorf("the registered one: %v", err)
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

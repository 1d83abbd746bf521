package testidp

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

//go:embed testdata/logto-organizations.json
var organizationSpec []byte

// OrganizationSpec is testdata/logto-organizations.json, the one description
// of Logto's organization tokens that this package and the end-to-end
// fixture are both tested against; the file says what its fields mean.
type OrganizationSpec struct {
	About          []string               `json:"about"`
	User           string                 `json:"user"`
	Memberships    []string               `json:"memberships"`
	ResourceScopes []string               `json:"resource_scopes"`
	Scenarios      []OrganizationScenario `json:"scenarios"`
}

// OrganizationScenario is a login and the refreshes that follow it.
type OrganizationScenario struct {
	Name  string            `json:"name"`
	Login ScenarioLogin     `json:"login"`
	Steps []ScenarioRefresh `json:"steps"`
}

// ScenarioLogin is the authorization request and code exchange a scenario
// starts with.
type ScenarioLogin struct {
	Scope     string   `json:"scope"`
	Resources []string `json:"resources"`
	Expect
}

// ScenarioRefresh is one refresh_token grant.
type ScenarioRefresh struct {
	Note  string         `json:"note"`
	Token string         `json:"token"` // "current" (default), "previous" or "unknown"
	Send  map[string]any `json:"send"`  // a string, or a list for a repeated parameter
	Expect
}

// Expect is what a token response, and the endpoints asked about its
// access token, must answer.
type Expect struct {
	Status        int             `json:"status"`
	Body          map[string]any  `json:"body"`
	AccessToken   json.RawMessage `json:"access_token"` // "opaque" or JWT claims
	IDToken       map[string]any  `json:"id_token"`
	Userinfo      *ExpectCall     `json:"userinfo"`
	Introspection *ExpectCall     `json:"introspection"`
	RevokesGrant  bool            `json:"revokes_grant"`
}

// ExpectCall is an endpoint's answer: its status and fields of its JSON body.
type ExpectCall struct {
	Status int            `json:"status"`
	Body   map[string]any `json:"body"`
}

// LoadOrganizationSpec reads the description, refusing unknown fields so a
// misspelt expectation cannot pass by being ignored.
func LoadOrganizationSpec(t testing.TB) *OrganizationSpec {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(organizationSpec))
	dec.DisallowUnknownFields()
	var s OrganizationSpec
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("testdata/logto-organizations.json: %v", err)
	}
	return &s
}

// Target is a provider the scenarios run against.
type Target struct {
	// Issuer is where discovery starts; every endpoint comes from there.
	Issuer string
	// ClientID is a registered public client that accepts
	// http://127.0.0.1:PORT/callback redirects on any port.
	ClientID string
	// Authorize plays the spec's user at authURL, signing in and consenting
	// to everything, and returns the redirect back to the client: the
	// callback URL with code and state.
	Authorize func(t *testing.T, authURL string) string
	// RevokedGrants counts the grants the provider has revoked so far.
	RevokedGrants func(t *testing.T) int
}

// Run runs every scenario as a subtest against the provider target returns
// for it.
func (s *OrganizationSpec) Run(t *testing.T, target func(t *testing.T) Target) {
	for _, sc := range s.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			r := &scenarioRun{t: t, tg: target(t)}
			r.discover()
			r.login(sc.Login)
			for i, st := range sc.Steps {
				r.step = fmt.Sprintf("step %d", i+1)
				if st.Note != "" {
					r.step += " (" + st.Note + ")"
				}
				r.refresh(st)
			}
		})
	}
}

// scenarioRun is one scenario in progress: the provider's endpoints and
// keys, the login's subject, and its refresh tokens.
type scenarioRun struct {
	t    *testing.T
	tg   Target
	step string
	md   struct {
		Auth          string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		Userinfo      string `json:"userinfo_endpoint"`
		Introspection string `json:"introspection_endpoint"`
		JWKS          string `json:"jwks_uri"`
	}
	keys              jose.JSONWebKeySet
	sub               string
	current, previous string
}

func (r *scenarioRun) discover() {
	r.t.Helper()
	r.getJSON(strings.TrimSuffix(r.tg.Issuer, "/")+"/.well-known/openid-configuration", &r.md)
	r.getJSON(r.md.JWKS, &r.keys)
}

const scenarioRedirect = "http://127.0.0.1:49152/callback"

func (r *scenarioRun) login(l ScenarioLogin) {
	r.t.Helper()
	r.step = "login"
	verifier, state, nonce := random(), random(), random()
	q := url.Values{
		"response_type": {"code"}, "client_id": {r.tg.ClientID}, "redirect_uri": {scenarioRedirect},
		"scope": {l.Scope}, "state": {state}, "nonce": {nonce}, "prompt": {"consent"},
		"code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"},
	}
	if len(l.Resources) > 0 {
		q["resource"] = l.Resources
	}
	next, err := url.Parse(r.tg.Authorize(r.t, r.md.Auth+"?"+q.Encode()))
	if err != nil || next.Query().Get("state") != state || next.Query().Get("code") == "" {
		r.t.Fatalf("login: the authorization response %v (%v) has no code or another state", next, err)
	}
	revoked := r.tg.RevokedGrants(r.t)
	status, body := r.post(r.md.Token, url.Values{
		"grant_type": {"authorization_code"}, "client_id": {r.tg.ClientID}, "code": {next.Query().Get("code")},
		"redirect_uri": {scenarioRedirect}, "code_verifier": {verifier},
	})
	id, _ := body["id_token"].(string)
	if status != http.StatusOK || id == "" {
		r.t.Fatalf("login: %d %v, want an ID token", status, body)
	}
	claims := r.verify(id, "")
	r.sub, _ = claims["sub"].(string)
	if claims["nonce"] != nonce || r.sub == "" {
		r.t.Fatalf("login: ID token claims %v: want sub and nonce %s", claims, nonce)
	}
	r.check(l.Expect, status, body, revoked)
	if r.current, _ = body["refresh_token"].(string); r.current == "" {
		r.t.Fatalf("login: no refresh token in %v", body)
	}
}

func (r *scenarioRun) refresh(st ScenarioRefresh) {
	r.t.Helper()
	var rt string
	switch st.Token {
	case "", "current":
		rt = r.current
	case "previous":
		rt = r.previous
	case "unknown":
		rt = random()
	default:
		r.t.Fatalf("%s: token %q is not current, previous or unknown", r.step, st.Token)
	}
	if rt == "" {
		r.t.Fatalf("%s: no %s refresh token yet", r.step, st.Token)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {r.tg.ClientID}, "refresh_token": {rt}}
	for k, v := range st.Send {
		switch v := v.(type) {
		case string:
			form.Set(k, v)
		case []any:
			for _, e := range v {
				form.Add(k, fmt.Sprint(e))
			}
		default:
			r.t.Fatalf("%s: send %s: %v is neither a string nor a list", r.step, k, v)
		}
	}
	revoked := r.tg.RevokedGrants(r.t)
	status, body := r.post(r.md.Token, form)
	r.check(st.Expect, status, body, revoked)
	if status == http.StatusOK {
		next, _ := body["refresh_token"].(string)
		if next == "" || next == rt {
			r.t.Fatalf("%s: refresh token %q not rotated", r.step, next)
		}
		r.previous, r.current = rt, next
	}
}

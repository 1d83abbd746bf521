// Package testidp is an in-process OpenID provider for sesame's fast tests.
//
// It serves discovery, authorization, token, JWKS, userinfo, revocation and
// introspection endpoints (and, with Options.PAR, pushed authorization
// requests, RFC 9126) on an httptest server bound to 127.0.0.1, and is
// strict where real providers are strict: loopback-only redirect URIs
// (RFC 8252 §7.3), PKCE S256 only (RFC 7636), single-use codes, exact
// redirect_uri matching (RFC 6749 §4.1.3), refresh token rotation with reuse
// detection (OAuth 2.0 Security BCP, RFC 9700 §4.14.2). A client that cuts a
// corner the spec forbids gets the error a real provider would send, so the
// test fails here rather than against a production IdP.
//
// Refreshes also do what Logto's do (RFC 0001 in logto-io/rfcs): resource=R
// gives a JWT access token for R (RFC 8707, RFC 9068), organization_id=ORG an
// organization token. What they answer, request by request, is described
// once, in testdata/logto-organizations.json; TestOrganizationScenarios runs
// it against this provider and e2e/organizations_test.go against the
// end-to-end fixture e2e/idp/server.js, a real oidc-provider. Where the two
// differ, outside what the file describes:
//
//   - It has one user, Subject, whose memberships Options.Organizations sets;
//     the fixture has alice, in acme and globex, and bob, in globex.
//   - Its refresh tokens never expire; the fixture's die after
//     --refresh-token-ttl.
//   - It has one client, so no refresh token of another client can be sent.
//   - Its error descriptions are its own, except those the file pins.
//   - A refresh with more than one resource, which sesame never sends, gets
//     the organization token when organization_id is sent and an opaque
//     token otherwise; the fixture resolves no resource and sends an opaque
//     token in both cases.
//   - It counts what happened (Grants, Errors, ReuseDetected) where the
//     fixture writes an event log.
package testidp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The one user the provider knows; every approved login is this user.
const (
	Subject = "alice"
	Name    = "Alice Liddell"
	Email   = "alice@example.com"
)

// OrganizationsScope is the scope Logto requires for organization tokens;
// when granted, ID tokens and userinfo carry the user's "organizations".
//
// It and OrganizationAudience are the test side's one definition of
// Logto's names; tests use them rather than the literals. sesame's own
// are session.OrganizationsScope and session.OrganizationAudience. This
// package does not import session on purpose: the provider stands in for
// Logto, so a wrong name in sesame must fail against it rather than agree
// with itself.
const OrganizationsScope = "urn:logto:scope:organizations"

// OrganizationAudience is the aud of the organization token for id.
func OrganizationAudience(id string) string { return "urn:logto:organization:" + id }

// Options configure an IdP. The zero value is a plain RS256 provider.
type Options struct {
	// Path is the issuer's path: "/oidc" gives http://127.0.0.1:PORT/oidc.
	// It is used verbatim, so a trailing slash stays part of the issuer.
	Path string
	// Alg signs ID tokens: RS256 (default), RS384, RS512, PS256, PS384,
	// PS512, ES256, ES384, ES512 or EdDSA.
	Alg string
	// ClientID is the one registered client; default "test-client".
	ClientID string
	// ClientSecret, when set, makes the client confidential: the token
	// endpoint then requires client_secret_basic or client_secret_post.
	// When empty the client is public and any client credential is refused.
	ClientSecret string
	// RedirectPath, when set, is the only path accepted in redirect_uri;
	// otherwise any path on a loopback address is accepted.
	RedirectPath string
	// ExactRedirect, when set, is the only redirect_uri accepted, port
	// included, as providers that match redirect URIs exactly do.
	ExactRedirect string
	// PAR offers pushed authorization requests (RFC 9126): discovery
	// advertises /par, and the authorization endpoint takes request_uri.
	PAR bool
	// Scopes are accepted on top of openid, profile, email,
	// offline_access and OrganizationsScope; other scopes are refused with
	// invalid_scope. Like oidc-provider's resource scopes, they go into
	// access tokens for a resource, not into the opaque one for userinfo.
	Scopes []string
	// Organizations maps a subject to the ids of the Logto organizations it
	// is a member of. Nil means Subject is a member of "acme" and "globex";
	// an empty map makes it a member of none.
	Organizations map[string][]string
	// IssParameter advertises and sends the RFC 9207 iss parameter.
	IssParameter bool
	// OfflineNeedsConsent drops offline_access unless prompt=consent was
	// sent, as oidc-provider (and so Logto) does (OpenID Connect Core §11).
	OfflineNeedsConsent bool
	// AccessTokenTTL is the lifetime of access and ID tokens; default 1h.
	AccessTokenTTL time.Duration
	// NoRefreshIDToken leaves the ID token out of refresh responses, which
	// OpenID Connect Core §12.2 allows and many providers do.
	NoRefreshIDToken bool
	// Now is the provider's clock; default time.Now.
	Now func() time.Time
}

// IdP is a running provider. All methods are safe for concurrent use.
type IdP struct {
	// Issuer is the issuer URL; every endpoint lives under it.
	Issuer string

	opts   Options
	server *httptest.Server
	key    jose.JSONWebKey

	mu       sync.Mutex
	codes    map[string]*authCode
	access   map[string]*accessToken
	refresh  map[string]*refreshToken
	grants   map[string]int // token requests by grant_type
	errs     map[string]int // token endpoint refusals by error code
	reuse    int
	pushed   map[string]pushedRequest
	pushes   int
	failures []fault
	delay    time.Duration
	// editDiscovery and intercept are a test's changes (hooks.go).
	editDiscovery func(md map[string]any)
	intercept     func(w http.ResponseWriter, r *http.Request) bool
}

// New starts a provider on 127.0.0.1 and closes it when the test ends.
func New(t testing.TB, o Options) *IdP {
	t.Helper()
	if o.Alg == "" {
		o.Alg = "RS256"
	}
	if o.ClientID == "" {
		o.ClientID = "test-client"
	}
	if o.AccessTokenTTL == 0 {
		o.AccessTokenTTL = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Organizations == nil {
		o.Organizations = map[string][]string{Subject: {"acme", "globex"}}
	}
	orgs := make(map[string][]string, len(o.Organizations)) // the caller's map may change later
	for sub, ids := range o.Organizations {
		orgs[sub] = slices.Clone(ids)
	}
	o.Organizations = orgs
	if o.Path != "" && !strings.HasPrefix(o.Path, "/") {
		t.Fatalf("testidp: Path %q must start with /", o.Path)
	}
	key, err := newKey(o.Alg)
	if err != nil {
		t.Fatalf("testidp: %v", err)
	}
	p := &IdP{
		opts: o, key: key,
		codes:   map[string]*authCode{},
		access:  map[string]*accessToken{},
		refresh: map[string]*refreshToken{},
		grants:  map[string]int{},
		errs:    map[string]int{},
		pushed:  map[string]pushedRequest{},
	}
	mux := http.NewServeMux()
	base := strings.TrimSuffix(o.Path, "/")
	for path, h := range map[string]http.HandlerFunc{
		"/.well-known/openid-configuration": p.handleDiscovery,
		"/auth":                             p.handleAuth,
		"/token":                            p.handleToken,
		"/jwks":                             p.handleJWKS,
		"/userinfo":                         p.handleUserinfo,
		"/revoke":                           p.handleRevoke,
		"/introspect":                       p.handleIntrospect,
		"/par":                              p.handlePAR,
	} {
		mux.HandleFunc(base+path, h)
	}
	p.server = httptest.NewServer(p.intercepting(mux))
	t.Cleanup(p.server.Close)
	p.Issuer = p.server.URL + o.Path
	return p
}

// ClientID is the registered client's id.
func (p *IdP) ClientID() string { return p.opts.ClientID }

// Endpoint returns the URL of one endpoint, such as "/token".
func (p *IdP) Endpoint(path string) string {
	return strings.TrimSuffix(p.Issuer, "/") + path
}

func (p *IdP) now() time.Time { return p.opts.Now() }

func (p *IdP) scopesSupported() []string {
	return append([]string{"openid", "profile", "email", "offline_access", OrganizationsScope}, p.opts.Scopes...)
}

// organizations lists the organizations the user is a member of, never nil,
// so that a granted claim with none is [] as oidc-provider sends it.
func (p *IdP) organizations() []string {
	return append([]string{}, p.opts.Organizations[Subject]...)
}

func (p *IdP) isMember(org string) bool {
	return slices.Contains(p.opts.Organizations[Subject], org)
}

// handleDiscovery serves OpenID Connect Discovery 1.0 §3 metadata.
func (p *IdP) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	auth := []string{"none"}
	if p.opts.ClientSecret != "" {
		auth = []string{"client_secret_basic", "client_secret_post"}
	}
	md := map[string]any{
		"issuer":                                p.Issuer,
		"authorization_endpoint":                p.Endpoint("/auth"),
		"token_endpoint":                        p.Endpoint("/token"),
		"jwks_uri":                              p.Endpoint("/jwks"),
		"userinfo_endpoint":                     p.Endpoint("/userinfo"),
		"revocation_endpoint":                   p.Endpoint("/revoke"),
		"introspection_endpoint":                p.Endpoint("/introspect"),
		"scopes_supported":                      p.scopesSupported(),
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{p.opts.Alg},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": auth,
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name", "email", "email_verified", "organizations"},
	}
	if p.opts.IssParameter {
		md["authorization_response_iss_parameter_supported"] = true
	}
	if p.opts.PAR {
		md["pushed_authorization_request_endpoint"] = p.Endpoint("/par")
	}
	p.mu.Lock()
	edit := p.editDiscovery
	p.mu.Unlock()
	if edit != nil {
		edit(md)
	}
	writeJSON(w, http.StatusOK, md)
}

func (p *IdP) handleJWKS(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{p.key.Public()}})
}

// oauthError is an RFC 6749 §5.2 error response. Scope names the scope
// missing for insufficient_scope, as oidc-provider (and so Logto) sends it.
type oauthError struct {
	status      int
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Scope       string `json:"scope,omitempty"`
}

func errorf(status int, code, description string) *oauthError {
	return &oauthError{status: status, Code: code, Description: description}
}

func (e *oauthError) write(w http.ResponseWriter) {
	if e.status == http.StatusUnauthorized {
		// RFC 6749 §5.2: a 401 names the authentication scheme.
		w.Header().Set("WWW-Authenticate", `Basic realm="testidp"`)
	}
	writeJSON(w, e.status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	// RFC 6749 §5.1: token responses must not be cached; harmless elsewhere.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// random returns 32 random bytes, base64url-encoded, for codes and tokens.
func random() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("testidp: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

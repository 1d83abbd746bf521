package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
)

// DPoP (RFC 9449) against oidc-provider and the fixture's API: login
// --dpop binds the tokens to a key kept with them in the keychain, and
// every use of them (sesame api, userinfo, a refresh, a proof for curl)
// proves that key.

// TestDPoPLogin: the bound token is refused as a bearer token and taken
// with proofs, sesame's own and those `sesame proof` prints for another
// client; a proof is good for one request only.
func TestDPoPLogin(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := loggedIn(t, idp, "--dpop")
	if key := storedKey(t, e); key["kty"] != "EC" || key["crv"] != "P-256" {
		t.Errorf("dpop_key is %v %v, want P-256 (the provider lists ES256 first)", key["kty"], key["crv"])
	}
	var tj map[string]any
	if err := json.Unmarshal([]byte(e.mustRun("token", "--json").Stdout), &tj); err != nil || tj["token_type"] != "DPoP" {
		t.Errorf("token --json: %v, token_type %v", err, tj["token_type"])
	}
	tok := strings.TrimSpace(e.mustRun("token").Stdout)
	if code, _ := userinfo(t, idp, tok); code != 401 {
		t.Errorf("userinfo took the bound token as a bearer token: %d, want 401", code)
	}
	if info := runJSON(t, e, "userinfo"); info["sub"] != "alice" {
		t.Errorf("sesame userinfo: %v", info)
	}
	me := idp.API + "/me"
	if got := runJSON(t, e, "api", me); got["token_type"] != "DPoP" || got["sub"] != "alice" || got["client_id"] != "sesame-cli" {
		t.Errorf("sesame api /me: %v", got)
	}

	// As curl would send it: the token, and a proof from sesame proof.
	proof := proofFor(e, "GET", me)
	if h, c := jwtHeader(t, proof), jwtClaims(t, proof); h["typ"] != "dpop+jwt" || h["alg"] != "ES256" || c["htm"] != "GET" || c["htu"] != me || c["ath"] != ath(tok) {
		t.Errorf("proof header %v claims %v; want htu %s ath %s", h, c, me, ath(tok))
	}
	if code, _ := dpopGet(t, me, tok, proof); code != 200 {
		t.Errorf("GET /me with the printed proof: %d, want 200", code)
	}
	if code, h := dpopGet(t, me, tok, proof); code != 401 || !strings.Contains(h.Get("WWW-Authenticate"), "invalid_dpop_proof") {
		t.Errorf("the same proof again: %d %q, want 401 invalid_dpop_proof", code, h.Get("WWW-Authenticate"))
	}
	// htu leaves out the query and the fragment (RFC 9449 §4.2).
	if proof := proofFor(e, "GET", me+"?x=1#f"); jwtClaims(t, proof)["htu"] != me {
		t.Errorf("htu %v, want %s", jwtClaims(t, proof)["htu"], me)
	} else if code, _ := dpopGet(t, me+"?x=1", tok, proof); code != 200 {
		t.Errorf("GET /me?x=1 with its proof: %d", code)
	}
	if got := trail(apiRequests(t, idp, "/api/me")); !slices.Equal(got, []string{"200 DPoP", "200 DPoP", "401 DPoP invalid_dpop_proof", "200 DPoP"}) {
		t.Errorf("the API saw %q", got)
	}
	// The provider's userinfo endpoint remembers proofs too.
	ui, _ := metadata(t, idp)["userinfo_endpoint"].(string)
	proof = proofFor(e, "GET", ui)
	if code, _ := dpopGet(t, ui, tok, proof); code != 200 {
		t.Errorf("userinfo with a printed proof: %d, want 200", code)
	}
	if code, _ := dpopGet(t, ui, tok, proof); code != 401 {
		t.Errorf("userinfo with the same proof again: %d, want 401", code)
	}

	// Each page, and the retry after a refused token, with a proof of its own.
	if r := e.mustRun("api", "--paginate", "--jq", ".[].id", idp.API+"/items"); r.Stdout != "1\n2\n3\n4\n5\n6\n" {
		t.Errorf("--paginate printed %q", r.Stdout)
	}
	if got := runJSON(t, e, "api", "-d", "again", idp.API+"/reject-once"); got["token_type"] != "DPoP" || got["body"] != "again" {
		t.Errorf("reject-once: %v", got)
	}
	if got := trail(apiRequests(t, idp, "/api/reject-once")); !slices.Equal(got, []string{"401 DPoP invalid_token", "200 DPoP"}) {
		t.Errorf("the API saw %q at reject-once", got)
	}
	if got := grantTrail(t, idp); !slices.Equal(got, []string{"authorization_code DPoP", "refresh_token DPoP"}) {
		t.Errorf("grants %q, want the login's and one refresh, both DPoP", got)
	}
}

// TestDPoPRefreshAfterExpiry: an expired bound token is refreshed, with
// a proof of the same key, before the request goes out.
func TestDPoPRefreshAfterExpiry(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t, "--access-token-ttl", "4")
	e := loggedIn(t, idp, "--dpop")
	old, jkt := accessToken(t, e), bindingOf(t, e)["jkt"]
	time.Sleep(5 * time.Second)
	if me := runJSON(t, e, "api", idp.API+"/me"); me["token_type"] != "DPoP" || me["sub"] != "alice" {
		t.Errorf("sesame api /me after expiry: %v", me)
	}
	if accessToken(t, e) == old || bindingOf(t, e)["jkt"] != jkt || jkt == nil {
		t.Errorf("after the refresh: new token %v, key %v (was %v)", accessToken(t, e) != old, bindingOf(t, e)["jkt"], jkt)
	}
	// sesame proof refreshes as sesame token does: what both print
	// belongs together.
	time.Sleep(5 * time.Second)
	proof := proofFor(e, "GET", idp.API+"/me")
	tok := strings.TrimSpace(e.mustRun("token").Stdout)
	if code, _ := dpopGet(t, idp.API+"/me", tok, proof); code != 200 || jwtClaims(t, proof)["ath"] != ath(tok) {
		t.Errorf("a proof made after expiry, with the token printed next: %d", code)
	}
	if got := grantTrail(t, idp); !slices.Equal(got, []string{"authorization_code DPoP", "refresh_token DPoP", "refresh_token DPoP"}) {
		t.Errorf("grants %q", got)
	}
	if got := trail(apiRequests(t, idp, "/api/me")); !slices.Equal(got, []string{"200 DPoP", "200 DPoP"}) {
		t.Errorf("the API saw %q: an expired token was sent", got)
	}
}

// TestDPoPNonce: a provider and an API that want a nonce of theirs in
// every proof. Each asks once per sesame process, and is answered.
func TestDPoPNonce(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t, "--dpop-nonce")
	e := loggedIn(t, idp, "--dpop")
	me := idp.API + "/me"
	if got := runJSON(t, e, "api", me); got["token_type"] != "DPoP" {
		t.Errorf("sesame api /me: %v", got)
	}
	if info := runJSON(t, e, "userinfo"); info["sub"] != "alice" {
		t.Errorf("sesame userinfo: %v", info)
	}
	e.mustRun("refresh")
	// A client of its own: the API's nonce goes into the next proof.
	tok := strings.TrimSpace(e.mustRun("token").Stdout)
	code, h := dpopGet(t, me, tok, proofFor(e, "GET", me))
	nonce := h.Get("DPoP-Nonce")
	if code != 401 || nonce == "" {
		t.Fatalf("a proof without a nonce: %d, nonce %q", code, nonce)
	}
	proof := proofFor(e, "GET", me, "--nonce", nonce)
	if code, _ := dpopGet(t, me, tok, proof); code != 200 || jwtClaims(t, proof)["nonce"] != nonce {
		t.Errorf("a proof with the API's nonce: %d, nonce claim %v", code, jwtClaims(t, proof)["nonce"])
	}
	if got, want := trail(apiRequests(t, idp, "/api/me")), []string{"401 DPoP use_dpop_nonce", "200 DPoP", "401 DPoP use_dpop_nonce", "200 DPoP"}; !slices.Equal(got, want) {
		t.Errorf("the API saw %q, want %q", got, want)
	}
	got := summary(named(t, idp, "grant.", "userinfo."), "event", "grant_type", "token_type", "error")
	want := []string{
		"grant.error authorization_code use_dpop_nonce", "grant.success authorization_code DPoP",
		"userinfo.error use_dpop_nonce", "grant.error refresh_token use_dpop_nonce", "grant.success refresh_token DPoP",
	}
	if !slices.Equal(got, want) {
		t.Errorf("provider events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDPoPRefusedByBearerProvider: a provider that answers a proof with a
// bearer token fails login --dpop, which keeps nothing and leaves an
// earlier login of the profile and its settings as they were.
func TestDPoPRefusedByBearerProvider(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t, "--no-dpop")
	fresh := newEnv(t)
	fresh.Profile += "-fresh"
	r := fresh.login(idp, "--dpop")
	if r.Code != 1 || !strings.Contains(r.Stderr, "not a DPoP-bound one") || !strings.Contains(r.Stderr, "Bearer") || fresh.stored() != "" {
		t.Errorf("login --dpop against a bearer provider: exit %d, stored %v\n%s", r.Code, fresh.stored() != "", r.Stderr)
	}

	e := loggedIn(t, idp)
	before, tok := e.stored(), accessToken(t, e)
	cfgPath := filepath.Join(e.Home, ".config", "sesame", "config.yaml")
	cfg, _ := os.ReadFile(cfgPath)
	if r := e.login(idp, "--dpop"); r.Code != 1 || !strings.Contains(r.Stderr, "not a DPoP-bound one") {
		t.Errorf("login --dpop over a bearer login: exit %d\n%s", r.Code, r.Stderr)
	}
	after, _ := os.ReadFile(cfgPath)
	if e.stored() != before || string(after) != string(cfg) {
		t.Errorf("the failed login --dpop changed the stored login (%v) or the profile:\n%s\nwas:\n%s", e.stored() != before, after, cfg)
	}
	if code, _ := userinfo(t, idp, tok); code != 200 {
		t.Errorf("the kept bearer token: userinfo %d", code)
	}
	if me := runJSON(t, e, "api", idp.API+"/me"); me["token_type"] != "Bearer" {
		t.Errorf("sesame api /me with the kept login: %v", me)
	}
}

// TestDPoPLogoutAndNewKey: status names the stored key; logout removes
// it with the tokens, and the next login makes a key of its own.
func TestDPoPLogoutAndNewKey(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := loggedIn(t, idp, "--dpop")
	first := bindingOf(t, e)["jkt"]
	if want := thumbprint(t, storedKey(t, e)); first != want {
		t.Errorf("status jkt %v, the stored key's thumbprint %s", first, want)
	}
	e.mustRun("logout")
	if e.stored() != "" {
		t.Fatal("logout left the entry, and the key with it, in the keychain")
	}
	if _, ev := countEvents(t, idp); ev["revocation.success"] != 1 || ev["grant.revoked"] != 1 {
		t.Errorf("logout of a bound login: events %v, want the grant revoked", ev)
	}
	if r := e.login(idp, "--dpop"); r.Code != 0 {
		t.Fatalf("second login --dpop: exit %d\n%s", r.Code, r.Stderr)
	}
	if second := bindingOf(t, e)["jkt"]; second == first || second != thumbprint(t, storedKey(t, e)) {
		t.Errorf("the second login's key %v, the first's %v: want a new one", second, first)
	}
}

// TestDPoPStatusClaimsAndBearer: status and claims show the binding,
// claims for resource tokens (JWTs here); a bearer login shows none and
// cannot make proofs.
func TestDPoPStatusClaimsAndBearer(t *testing.T) {
	requireE2E(t)
	const resource = "https://api.example.test"
	idp := startIdP(t)
	e := loggedIn(t, idp, "--dpop", "--resource", resource)
	jkt := thumbprint(t, storedKey(t, e))
	_, st := statusJSON(t, e)
	if b, _ := st["dpop"].(map[string]any); st["token_type"] != "DPoP" || b["jkt"] != jkt || b["access_token_jkt"] != "" || b["matches"] != nil {
		t.Errorf("status --json of a bound login with an opaque access token: token_type %v dpop %v (key %s)", st["token_type"], st["dpop"], jkt)
	}
	if code, ok, cnf := cnfCheck(t, e, "--resource", resource); code != 0 || !ok || cnf != jkt {
		t.Errorf("claims --resource: exit %d, cnf check ok %v, cnf.jkt %v (key %s)", code, ok, cnf, jkt)
	}
	if me := runJSON(t, e, "api", "--resource", resource, idp.API+"/me"); me["token_type"] != "DPoP" || me["aud"] != resource {
		t.Errorf("sesame api --resource /me: %v", me)
	}

	bearer := newEnv(t)
	bearer.Profile += "-bearer"
	if r := bearer.login(idp); r.Code != 0 {
		t.Fatalf("login: exit %d\n%s", r.Code, r.Stderr)
	}
	if _, st := statusJSON(t, bearer); st["token_type"] != "Bearer" || st["dpop"] != nil {
		t.Errorf("status --json of a bearer login: token_type %v dpop %v", st["token_type"], st["dpop"])
	}
	if r := bearer.run("proof", "GET", idp.API+"/me"); r.Code != 4 || r.Stdout != "" || !strings.Contains(r.Stderr, "--dpop") {
		t.Errorf("proof with a bearer login: exit %d stdout %q\n%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestDPoPDeviceAndOrganization: a device login (dpop set in the profile)
// polls with proofs, and organization tokens are bound to the key too.
func TestDPoPDeviceAndOrganization(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)
	e.NoBrowser = true
	cfg := filepath.Join(e.Home, ".config", "sesame", "config.yaml")
	if err := config.SaveProfile(cfg, e.Profile, map[string]any{"dpop": true, "scopes": strings.Fields(orgScopes)}); err != nil {
		t.Fatal(err)
	}
	if r, _ := deviceLogin(t, e, idp, "approve"); r.Code != 0 || !strings.Contains(r.Stderr, "bound to a DPoP key") {
		t.Fatalf("device login with dpop: exit %d\n%s", r.Code, r.Stderr)
	}
	if me := runJSON(t, e, "api", "--org", "acme", idp.API+"/me"); me["token_type"] != "DPoP" || me["aud"] != "urn:logto:organization:acme" {
		t.Errorf("sesame api --org acme /me: %v", me)
	}
	if got := grantTrail(t, idp); !slices.Equal(got, []string{"urn:ietf:params:oauth:grant-type:device_code DPoP", "refresh_token acme DPoP"}) {
		t.Errorf("grants %q", got)
	}
	if code, ok, cnf := cnfCheck(t, e, "--org", "acme"); code != 0 || !ok || cnf != thumbprint(t, storedKey(t, e)) {
		t.Errorf("claims --org acme: exit %d, cnf check ok %v, cnf.jkt %v", code, ok, cnf)
	}
}

// storedKey is the private JWK of the env's login (dpop_key), which the
// leak check then looks for too.
func storedKey(t *testing.T, e *Env) map[string]any {
	t.Helper()
	var s struct {
		Key map[string]any `json:"dpop_key"`
	}
	if err := json.Unmarshal(e.decoded(), &s); err != nil || s.Key == nil || s.Key["d"] == nil {
		t.Fatalf("the stored login has no private dpop_key: %v", err)
	}
	recordSecret("DPoP private key", fmt.Sprint(s.Key["d"]))
	return s.Key
}

// thumbprint is the JWK SHA-256 thumbprint of an EC or OKP key (RFC 7638).
func thumbprint(t *testing.T, k map[string]any) string {
	t.Helper()
	members := fmt.Sprintf(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, k["crv"], k["x"], k["y"])
	if k["kty"] == "OKP" {
		members = fmt.Sprintf(`{"crv":%q,"kty":"OKP","x":%q}`, k["crv"], k["x"])
	}
	return ath(members)
}

// ath is base64url(SHA-256(s)): a proof's access token hash (RFC 9449 §4.2).
func ath(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// bindingOf is the "dpop" object of status --json for the env's profile.
func bindingOf(t *testing.T, e *Env) map[string]any {
	t.Helper()
	_, st := statusJSON(t, e)
	b, _ := st["dpop"].(map[string]any)
	return b
}

func proofFor(e *Env, args ...string) string {
	e.t.Helper()
	return strings.TrimSpace(e.mustRun(append([]string{"proof"}, args...)...).Stdout)
}

// cnfCheck runs claims --json for a stored token: the exit code, whether
// its cnf check passed, and the token's cnf.jkt.
func cnfCheck(t *testing.T, e *Env, args ...string) (int, bool, any) {
	t.Helper()
	type check struct {
		Name string
		OK   bool
	}
	var rep struct {
		Claims struct{ Cnf map[string]any }
		Checks []check
	}
	r := e.run(append([]string{"claims", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("claims %q: exit %d %v\n%s", args, r.Code, err, r.Stderr)
	}
	return r.Code, slices.Contains(rep.Checks, check{"cnf", true}), rep.Claims.Cnf["jkt"]
}

// dpopGet sends GET url as a client with its own proof would; it returns
// the status and the response headers.
func dpopGet(t *testing.T, url, token, proof string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "DPoP "+token)
	req.Header.Set("DPoP", proof)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// grantTrail sums up the provider's grant.success events as "GRANT_TYPE
// [ORGANIZATION ]TOKEN_TYPE".
func grantTrail(t *testing.T, idp *IdP) []string {
	return summary(named(t, idp, "grant.success"), "grant_type", "organization_id", "token_type")
}

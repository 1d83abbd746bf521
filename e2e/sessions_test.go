package e2e

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/dpop"
	"github.com/sesame-cli/sesame/verify"
)

// sesame-broker's session mode end to end: two upstream providers (main,
// and other at its own issuer), two broker replicas A and B sharing one
// configuration file, signing key and real redis-server, and the sesame
// CLI logging in through them with the browser and keychain. A sign-in
// older than max_auth_age is refused in internal/sessionbroker's unit
// tests: the provider here always signs in afresh.

// sessionRig is the broker side: A's URL is the issuer both replicas name.
type sessionRig struct {
	t           *testing.T
	main, other *IdP
	redis       *redisProc
	config      string   // the replicas' shared file
	env         []string // the brokers' environment: the client secrets
	a, b        *Broker
}

func newSessionRig(t *testing.T) *sessionRig {
	t.Helper()
	requireE2E(t)
	s := &sessionRig{t: t, redis: startRedisProc(t), main: startIdP(t), other: startIdP(t, "--path", "/other")}
	s.env = []string{"MAIN_SECRET=" + s.main.Secret, "OTHER_SECRET=" + s.other.Secret}
	portA, portB := freePort(t), freePort(t)
	for portB == portA {
		portB = freePort(t)
	}
	issuer := "http://127.0.0.1:" + strconv.Itoa(portA)
	s.config = s.writeConfig(issuer, "5m")
	s.a = startBrokerConfig(t, s.config, s.env)
	s.b = startBrokerConfig(t, s.config, s.env, "--listen", "127.0.0.1:"+strconv.Itoa(portB))
	if s.a.URL != issuer || s.b.URL == issuer {
		t.Fatalf("replicas at %s and %s, want A at %s", s.a.URL, s.b.URL, issuer)
	}
	return s
}

// writeConfig writes a session-mode configuration, and a new 0600 signing
// key next to it, and returns its path.
func (s *sessionRig) writeConfig(issuer, lifetime string) string {
	s.t.Helper()
	dir := s.t.TempDir()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	keyFile := filepath.Join(dir, "session-key.pem")
	if err == nil {
		err = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	}
	u, _ := url.Parse(issuer)
	cfg := fmt.Sprintf(`listen: %s
log_format: json
log_level: debug
rate_limit: 0 # B is polled faster than the default allows
sessions:
  issuer: %s
  signing_key_file: %s
  lifetime: %s
  max_auth_age: 5m
  store: redis://%s/0
clients:
  - {name: main, issuer: %q, client_id: %s, client_secret_env: MAIN_SECRET}
  - {name: other, issuer: %q, client_id: sesame-confidential-post, auth_method: client_secret_post, client_secret_env: OTHER_SECRET}
`, u.Host, issuer, keyFile, lifetime, s.redis.Addr, s.main.Issuer, s.main.SecretClient, s.other.Issuer)
	path := filepath.Join(dir, "broker.yaml")
	if err == nil {
		err = os.WriteFile(path, []byte(cfg), 0o600)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return path
}

// admin runs one administrative sesame-broker command (-1: it did not run).
func (s *sessionRig) admin(args ...string) Result {
	cmd := exec.Command(brokerBin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, s.env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Run()
	recordBrokerLog(out.String() + errb.String())
	return Result{Code: cmd.ProcessState.ExitCode(), Stdout: out.String(), Stderr: errb.String()}
}

// login signs e in through b at provider; it returns the session token.
func (s *sessionRig) login(e *Env, b *Broker, provider string) string {
	s.t.Helper()
	os.Remove(e.BrowserLog)
	if r := e.run("login", "--broker", b.URL, "--provider", provider, "--timeout", "60s"); r.Code != 0 {
		s.t.Fatalf("login --provider %s: exit %d\n%s\nbrowser: %s", provider, r.Code, r.Stderr, e.browserLog())
	}
	return accessToken(s.t, e)
}

// verified checks a session token offline, as an API does.
func (s *sessionRig) verified(tok string) *verify.Claims {
	s.t.Helper()
	c, err := (&verify.Verifier{Issuer: s.a.URL}).Verify(context.Background(), tok)
	if err != nil {
		s.t.Fatalf("the session token does not verify: %v", err)
	}
	return c
}

// proof is a new DPoP proof of k for the session token endpoint, as the
// issuer names it, whichever replica gets it.
func (s *sessionRig) proof(k *dpop.Key) string {
	s.t.Helper()
	p, err := k.Proof(dpop.ProofClaims{Method: http.MethodPost, URL: s.a.URL + "/session/token", Now: time.Now()})
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

// events counts the messages in both replicas' logs.
func (s *sessionRig) events() map[string]int {
	n := map[string]int{}
	for _, l := range strings.Split(s.a.logs.String()+s.b.logs.String(), "\n") {
		var m struct{ Msg string }
		if json.Unmarshal([]byte(l), &m) == nil {
			n[m.Msg]++
		}
	}
	return n
}

// sessionPost posts form to one of b's session endpoints, with a DPoP
// proof unless it is empty; it returns the status and the JSON answer,
// whose tokens the leak check then looks for too.
func sessionPost(t *testing.T, b *Broker, route string, form url.Values, proof string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.URL+route, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := map[string]any{}
	json.NewDecoder(resp.Body).Decode(&body)
	for _, k := range []string{"access_token", "refresh_token"} {
		v, _ := body[k].(string)
		recordSecret(strings.ReplaceAll(k, "_", " "), v)
	}
	return resp.StatusCode, body
}

// active asks b whether a session token is active.
func active(t *testing.T, b *Broker, tok string) (int, bool) {
	t.Helper()
	code, body := sessionPost(t, b, "/session/introspect", url.Values{"token": {tok}}, "")
	return code, body["active"] == true
}

// renew renews a sealed session at b: the status, the error code and the
// new sealed session.
func renew(t *testing.T, b *Broker, blob, proof string) (int, string, string) {
	t.Helper()
	code, body := sessionPost(t, b, "/session/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {blob}}, proof)
	e, _ := body["error"].(string)
	rt, _ := body["refresh_token"].(string)
	return code, e, rt
}

// dpopKey is e's stored DPoP key.
func dpopKey(t *testing.T, e *Env) *dpop.Key {
	t.Helper()
	b, _ := json.Marshal(storedKey(t, e))
	k, err := dpop.Parse(b)
	if err != nil {
		t.Fatalf("the stored DPoP key: %v", err)
	}
	return k
}

// redisProc is a real redis-server on a free loopback port, without
// persistence, killed at cleanup (as internal/sessions' tests run it).
type redisProc struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func startRedisProc(t *testing.T) *redisProc {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil && os.Getenv("CI") != "" {
		t.Fatal("redis-server is not installed; session mode's tests need a real Redis: apt-get install -y redis-server")
	} else if err != nil {
		t.Skip("redis-server is not installed (apt-get install -y redis-server): skipping session mode's tests")
	}
	for range 3 { // another process may take the free port first
		dir, port := t.TempDir(), strconv.Itoa(freePort(t))
		r := &redisProc{Addr: "127.0.0.1:" + port, done: make(chan struct{})}
		r.cmd = exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
		if err := r.cmd.Start(); err != nil {
			t.Fatalf("start redis-server: %v", err)
		}
		go func() { r.cmd.Wait(); close(r.done) }()
		t.Cleanup(r.kill)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && r.alive(); time.Sleep(20 * time.Millisecond) {
			if c, err := net.DialTimeout("tcp", r.Addr, time.Second); err == nil {
				c.SetDeadline(time.Now().Add(time.Second))
				fmt.Fprint(c, "PING\r\n")
				line, _ := bufio.NewReader(c).ReadString('\n')
				c.Close()
				if line == "+PONG\r\n" {
					return r
				}
			}
		}
		r.kill()
	}
	t.Fatal("redis-server did not answer PING")
	return nil
}

func (r *redisProc) alive() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// kill stops the server at once, as a crash would.
func (r *redisProc) kill() {
	if r.alive() {
		r.cmd.Process.Kill()
		<-r.done
	}
}

// TestSessionLogin: a login through A keeps the broker's session token,
// bound to the CLI's key, and nothing of the upstream's; an API verifies
// it offline and wants a proof; renewal keeps the session; the same user
// at the other provider is another subject.
func TestSessionLogin(t *testing.T) {
	s := newSessionRig(t)
	e := newEnv(t)
	var out strings.Builder // all the CLI printed
	run := func(args ...string) string {
		r := e.mustRun(args...)
		out.WriteString(r.Stdout + r.Stderr)
		return r.Stdout
	}
	tok := s.login(e, s.a, "main")
	c, key := s.verified(tok), thumbprint(t, storedKey(t, e))
	if c.Issuer != s.a.URL || c.IDP != "main" || c.SessionID == "" || c.JKT != key || c.Subject == "alice" || c.AuthTime.IsZero() {
		t.Errorf("session token: iss %s idp %s sid %q cnf.jkt %s (key %s) sub %s auth_time %v", c.Issuer, c.IDP, c.SessionID, c.JKT, key, c.Subject, c.AuthTime)
	}
	if code, ok, cnf := cnfCheck(t, e, "--access-token"); code != 0 || !ok || cnf != key {
		t.Errorf("claims --access-token --json: exit %d, cnf check ok %v, cnf.jkt %v (key %s)", code, ok, cnf, key)
	}
	if _, st := statusJSON(t, e); st["provider"] != "main" || st["session_id"] != c.SessionID || bindingOf(t, e)["jkt"] != key {
		t.Errorf("status --json: provider %v session_id %v dpop %v; want main, %s, %s", st["provider"], st["session_id"], st["dpop"], c.SessionID, key)
	}

	// An API behind verify.Middleware: a copy of the token is nothing
	// without the key.
	api := httptest.NewServer(verify.Middleware(&verify.Verifier{Issuer: s.a.URL}, verify.MiddlewareOptions{})(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	defer api.Close()
	for _, scheme := range []string{"DPoP", "Bearer"} {
		if code := apiGet(t, api.URL+"/me", scheme+" "+tok, ""); code != 401 {
			t.Errorf("the API took the session token as %s without a proof: %d, want 401", scheme, code)
		}
	}
	proof := proofFor(e, "GET", api.URL+"/me")
	if code := apiGet(t, api.URL+"/me", "DPoP "+tok, proof); code != 200 {
		t.Errorf("the API refused the token with a proof from sesame proof: %d", code)
	}
	if code := apiGet(t, api.URL+"/me", "DPoP "+tok, proof); code != 401 {
		t.Errorf("the API took the same proof twice: %d, want 401", code)
	}

	// The lifetime is 5m, so --min-ttl 10m renews now, through the broker,
	// which refreshes the upstream grant too.
	time.Sleep(1100 * time.Millisecond) // for a later exp, in seconds
	fresh := strings.TrimSpace(run("token", "--min-ttl", "10m"))
	n := s.verified(fresh)
	if fresh == tok || fresh != accessToken(t, e) || n.SessionID != c.SessionID || !n.Expiry.After(c.Expiry) || n.JKT != key {
		t.Errorf("renewed: new %v, stored %v, sid %s (was %s), exp %v (was %v), cnf.jkt %s", fresh != tok, fresh == accessToken(t, e), n.SessionID, c.SessionID, n.Expiry, c.Expiry, n.JKT)
	}
	if ev := s.events(); ev["session started"] != 1 || ev["session renewed"] != 1 {
		t.Errorf("broker events %v, want a session started and renewed", ev)
	}
	if got := strings.Join(grantTrail(t, s.main), ", "); got != "authorization_code Bearer, refresh_token Bearer" {
		t.Errorf("the upstream's grants: %s; want the broker's code exchange and one refresh", got)
	}
	if _, st := statusJSON(t, e); st["session_id"] != c.SessionID {
		t.Errorf("status --json after renewal: session_id %v, want %s", st["session_id"], c.SessionID)
	}
	run("status")
	run("introspect", "--json")

	o := newEnv(t)
	o.Profile += "-other"
	oc := s.verified(s.login(o, s.a, "other"))
	if oc.IDP != "other" || oc.Subject == c.Subject || oc.JKT != thumbprint(t, storedKey(t, o)) {
		t.Errorf("via other: idp %s sub %s (via main %s) cnf.jkt %s", oc.IDP, oc.Subject, c.Subject, oc.JKT)
	}
	noUpstreamTokens(t, s.main, s.main.SecretClient, e, out.String())
	noUpstreamTokens(t, s.other, "sesame-confidential-post", o, "")
}

// noUpstreamTokens fails the test when the refresh, access or ID tokens
// that idp issued to client are in e's keychain entry, its files or out.
func noUpstreamTokens(t *testing.T, idp *IdP, client string, e *Env, out string) {
	t.Helper()
	upstream := secretSet{}
	for v, kind := range idp.secretsOf(t, client) {
		if kind == "refresh token" || kind == "access token" || kind == "ID token" {
			upstream.add(kind, v)
		}
	}
	if upstream.count("refresh token") == 0 || upstream.count("access token") == 0 || upstream.count("ID token") == 0 {
		t.Fatalf("%s issued %s: the search would miss them", client, upstream.byKind())
	}
	f := newFinder(upstream)
	for where, hay := range map[string]string{"the keychain": e.stored(), "the stored login": string(e.decoded()), "the output": out} {
		for _, v := range f.find([]byte(hay)) {
			t.Errorf("the upstream's %s is in %s", f.describe(v), where)
		}
	}
	for v := range upstream {
		if hits := filesContaining(t, e.Home, v); len(hits) > 0 {
			t.Errorf("the upstream's %s is in %v", f.describe(v), hits)
		}
	}
}

// apiGet sends GET url with an Authorization header and, unless empty, a
// DPoP proof; it returns the status.
func apiGet(t *testing.T, url, authorization, proof string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", authorization)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSessionRevocation: the replicas share the store: a proof used at A
// is refused at B, a logout through A ends the session at B within a
// second, and --revoke-subject ends a user's sessions at both. A tampered
// blob, or another key's proof, renews nothing.
func TestSessionRevocation(t *testing.T) {
	s := newSessionRig(t)
	e := newEnv(t)
	tok, key := s.login(e, s.a, "main"), dpopKey(t, e)
	blob := refreshToken(t, e)
	if code, ok := active(t, s.b, tok); code != 200 || !ok {
		t.Fatalf("B introspects A's session token: %d active %v", code, ok)
	}
	// SESAME_BROKER picks the replica sesame introspect asks.
	if r := e.runWith([]string{"SESAME_BROKER=http://127.0.0.1:" + strconv.Itoa(freePort(t))}, "introspect", "--json"); r.Code == 0 {
		t.Errorf("introspect with SESAME_BROKER at a closed port: exit 0\n%s", r.Stdout)
	}
	if r := e.runWith([]string{"SESAME_BROKER=" + s.b.URL}, "introspect", "--json"); r.Code != 0 || !strings.Contains(r.Stdout, `"active": true`) {
		t.Errorf("introspect at B: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}

	tampered := []byte(blob)
	tampered[len(tampered)/2] ^= 1
	proof := s.proof(key)
	if code, err, _ := renew(t, s.a, string(tampered), proof); code != 400 || err != "invalid_grant" {
		t.Errorf("a tampered blob at A: %d %s, want 400 invalid_grant", code, err)
	}
	if code, err, _ := renew(t, s.b, blob, proof); code != 400 || err != "invalid_dpop_proof" {
		t.Errorf("the proof A saw, replayed at B: %d %s, want 400 invalid_dpop_proof", code, err)
	}
	stranger, _ := dpop.Generate(dpop.ES256)
	if code, err, _ := renew(t, s.b, blob, s.proof(stranger)); code != 400 || err != "invalid_grant" {
		t.Errorf("the blob with another key's proof at B: %d %s, want 400 invalid_grant", code, err)
	}
	if ev := s.events(); ev["session renewed"] != 0 {
		t.Errorf("broker events %v: a refused request renewed", ev)
	}
	// With a fresh proof of the key, B renews the session A started.
	code, _, latest := renew(t, s.b, blob, s.proof(key))
	if code != 200 || latest == "" {
		t.Fatalf("renewal at B with a fresh proof: %d", code)
	}

	e.mustRun("logout")
	loggedOut := time.Now()
	for code, ok := active(t, s.b, tok); code != 200 || ok; code, ok = active(t, s.b, tok) {
		if time.Since(loggedOut) > time.Second {
			t.Fatalf("B still answers %d active %v a second after the logout at A", code, ok)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("B saw the logout at A after %s", time.Since(loggedOut).Round(time.Millisecond))
	// The latest blob renews nothing at B, which does not even ask the
	// upstream.
	grants := len(named(t, s.main, "grant."))
	if code, err, _ := renew(t, s.b, latest, s.proof(key)); code != 400 || err != "invalid_grant" {
		t.Errorf("renewal after the logout, at B: %d %s, want 400 invalid_grant", code, err)
	}
	if n := len(named(t, s.main, "grant.")); n != grants {
		t.Errorf("the upstream saw %d grant requests after the logout", n-grants)
	}

	// An administrator ends every session of the user, at both replicas.
	e2 := newEnv(t)
	e2.Profile += "-second"
	tok2 := s.login(e2, s.b, "main")
	sub := s.verified(tok2).Subject
	if r := s.admin("--config", s.config, "--revoke-subject", sub); r.Code != 0 || !strings.Contains(r.Stderr, sub) {
		t.Fatalf("--revoke-subject: exit %d\n%s", r.Code, r.Stderr)
	}
	for _, b := range []*Broker{s.a, s.b} {
		if code, ok := active(t, b, tok2); code != 200 || ok {
			t.Errorf("%s after --revoke-subject: %d active %v", b.URL, code, ok)
		}
	}
	if r := e2.run("token", "--min-ttl", "10m"); r.Code != 4 || r.Stdout != "" || !strings.Contains(r.Stderr, "the session was revoked") {
		t.Errorf("renewal after --revoke-subject: exit %d, want 4 (log in again)\n%s", r.Code, r.Stderr)
	}
}

// TestSessionStoreDown: --check validates session mode; without Redis the
// broker fails closed (no renewal, no active session, nothing minted), and
// the CLI says so and keeps its token.
func TestSessionStoreDown(t *testing.T) {
	s := newSessionRig(t)
	if r := s.admin("--config", s.config, "--check"); r.Code != 0 || !strings.Contains(r.Stderr, "session mode") {
		t.Errorf("--check: exit %d\n%s", r.Code, r.Stderr)
	}
	if r := s.admin("--config", s.writeConfig(s.a.URL, "1m"), "--check"); r.Code != 2 || !strings.Contains(r.Stderr, "sessions.lifetime") {
		t.Errorf("--check with lifetime 1m: exit %d, want 2 naming sessions.lifetime\n%s", r.Code, r.Stderr)
	}

	e := newEnv(t)
	tok := s.login(e, s.a, "main")
	before := e.stored()
	s.redis.kill()
	r := e.run("token", "--min-ttl", "10m")
	if r.Code != 1 || r.Stdout != "" || !strings.Contains(r.Stderr, "session store is unavailable") || e.stored() != before {
		t.Errorf("renewal without the store: exit %d, want 1 saying the store is unavailable; login kept %v\nstdout: %q\n%s", r.Code, e.stored() == before, r.Stdout, r.Stderr)
	}
	for _, b := range []*Broker{s.a, s.b} {
		if code, ok := active(t, b, tok); code != 503 || ok {
			t.Errorf("%s introspects without the store: %d active %v, want 503", b.URL, code, ok)
		}
	}
	if ev := s.events(); ev["session renewed"] != 0 || ev["session started"] != 1 {
		t.Errorf("broker events %v: minted without the store", ev)
	}
	if got := strings.Join(grantTrail(t, s.main), ", "); got != "authorization_code Bearer" {
		t.Errorf("the upstream's grants: %s; the broker refreshed without the store", got)
	}
	if got := strings.TrimSpace(e.mustRun("token").Stdout); got != tok {
		t.Error("sesame token without the store does not print the unexpired token")
	}
	if r := s.admin("--config", s.config, "--check"); r.Code != 2 || !strings.Contains(r.Stderr, "sessions.store") {
		t.Errorf("--check without the store: exit %d, want 2 naming sessions.store\n%s", r.Code, r.Stderr)
	}
}

package cli

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/store"
	"github.com/sesame-cli/sesame/internal/testidp"
)

func TestTokenFormats(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login()
	_, raw, _ := h.run(testidp.Approve, "token")
	tok := strings.TrimSpace(raw)

	_, env, _ := h.run(testidp.Approve, "token", "--format", "env")
	if !strings.Contains(env, "export SESAME_ACCESS_TOKEN='"+tok+"'\n") || !strings.Contains(env, "export SESAME_TOKEN_EXPIRES_AT='") {
		t.Errorf("env:\n%s", env)
	}
	_, env, _ = h.run(testidp.Approve, "token", "--format", "env", "--env-name", "API_TOKEN")
	if !strings.HasPrefix(env, "export API_TOKEN='") {
		t.Errorf("env name:\n%s", env)
	}

	_, kc, _ := h.run(testidp.Approve, "token", "--format", "kubectl", "--id-token")
	var cred struct {
		APIVersion, Kind string
		Status           struct{ Token, ExpirationTimestamp string }
	}
	if err := json.Unmarshal([]byte(kc), &cred); err != nil || cred.APIVersion != "client.authentication.k8s.io/v1" || cred.Kind != "ExecCredential" ||
		strings.Count(cred.Status.Token, ".") != 2 {
		t.Fatalf("kubectl: %v %s", err, kc)
	}
	if _, err := time.Parse(time.RFC3339, cred.Status.ExpirationTimestamp); err != nil {
		t.Errorf("expirationTimestamp %q", cred.Status.ExpirationTimestamp)
	}
	if code, out, _ := h.run(testidp.Approve, "token", "--format", "yaml"); code != ExitUsage || out != "" {
		t.Errorf("bad format: %d %q", code, out)
	}
}

func TestRefreshCommandForces(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login()
	_, before, _ := h.run(testidp.Approve, "token")
	if code, out, errb := h.run(testidp.Approve, "refresh"); code != 0 || out != "" || !strings.Contains(errb, "Refreshed") {
		t.Fatalf("refresh: %d %q %q", code, out, errb)
	}
	_, after, _ := h.run(testidp.Approve, "token")
	if before == after || h.idp.Grants("refresh_token") != 1 {
		t.Errorf("refresh did not refresh (grants %d)", h.idp.Grants("refresh_token"))
	}
}

func TestResourceTokensAreCachedAndRotate(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login("--resource", "https://api.example.test")
	code, res1, errb := h.run(testidp.Approve, "token", "--resource", "https://api.example.test")
	if code != 0 {
		t.Fatalf("resource token: %d %s", code, errb)
	}
	_, res2, _ := h.run(testidp.Approve, "token", "--resource", "https://api.example.test")
	_, base, _ := h.run(testidp.Approve, "token")
	if res1 != res2 || res1 == base || h.idp.Grants("refresh_token") != 1 {
		t.Fatalf("resource token not cached separately (grants %d)", h.idp.Grants("refresh_token"))
	}
	// The resource refresh rotated the refresh token; the stored one is the
	// new one, so the next refresh is no reuse.
	if code, _, errb := h.run(testidp.Approve, "refresh"); code != 0 || h.idp.ReuseDetected() != 0 {
		t.Fatalf("refresh after a resource token: %d reuse=%d %s", code, h.idp.ReuseDetected(), errb)
	}
	// A resource the login did not ask for.
	code, out, errb := h.run(testidp.Approve, "token", "--resource", "https://other.example.test")
	if code != ExitLoginRequired || out != "" || !strings.Contains(errb, "--resource https://other.example.test") {
		t.Errorf("ungranted resource: %d %q %q", code, out, errb)
	}
}

// memStore is a goroutine-safe store: go-keyring's mock is not, and here
// many in-process "processes" share it.
type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memStore) Get(k string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return nil, store.ErrNotFound
	}
	return v, nil
}
func (s *memStore) Set(k string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = v
	return nil
}
func (s *memStore) Delete(k string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
	return nil
}
func (s *memStore) Backend() string { return "keychain" }

func TestConcurrentTokensRefreshOnce(t *testing.T) {
	h := newHarness(t, testidp.Options{AccessTokenTTL: time.Minute})
	mem := &memStore{m: map[string][]byte{}}
	h.keychain = func() store.Store { return mem }
	h.login()
	h.clock.Add(2 * time.Minute)
	const n = 20
	outs := make([]string, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], outs[i], _ = h.run(testidp.Approve, "token")
		}()
	}
	wg.Wait()
	for i := range n {
		if codes[i] != 0 || outs[i] != outs[0] {
			t.Fatalf("process %d: exit %d, token differs: %q vs %q (grants %d)", i, codes[i], outs[i], outs[0], h.idp.Grants("refresh_token"))
		}
	}
	if g := h.idp.Grants("refresh_token"); g != 1 || h.idp.ReuseDetected() != 0 {
		t.Errorf("%d refresh grants, %d reuses; want 1 and 0", g, h.idp.ReuseDetected())
	}
}

func TestRevoke(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login()
	_, tok, _ := h.run(testidp.Approve, "token")
	if code, _, errb := h.run(testidp.Approve, "revoke"); code != 0 {
		t.Fatalf("revoke: %s", errb)
	}
	if status := h.userinfoStatus(strings.TrimSpace(tok)); status != http.StatusUnauthorized {
		t.Errorf("userinfo after revoke: %d", status)
	}
	if code, _, _ := h.run(testidp.Approve, "token"); code != ExitLoginRequired {
		t.Errorf("token after revoke: %d", code)
	}
}

func TestRevokeAccessTokenOnly(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login()
	_, tok, _ := h.run(testidp.Approve, "token")
	if code, _, errb := h.run(testidp.Approve, "revoke", "--access-token"); code != 0 {
		t.Fatalf("revoke: %s", errb)
	}
	code, fresh, errb := h.run(testidp.Approve, "token")
	if code != 0 || fresh == tok || h.idp.Grants("refresh_token") != 1 {
		t.Fatalf("token after revoking the access token: %d %s", code, errb)
	}
	if status := h.userinfoStatus(strings.TrimSpace(fresh)); status != http.StatusOK {
		t.Errorf("userinfo with the new token: %d", status)
	}
}

func TestLogoutRevokesUnlessTold(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login()
	_, tok, _ := h.run(testidp.Approve, "token")
	if code, _, errb := h.run(testidp.Approve, "logout"); code != 0 || !strings.Contains(errb, "revoked") {
		t.Fatalf("logout: %d %s", code, errb)
	}
	if status := h.userinfoStatus(strings.TrimSpace(tok)); status != http.StatusUnauthorized {
		t.Errorf("userinfo after logout: %d", status)
	}

	h.login()
	_, tok, _ = h.run(testidp.Approve, "token")
	if code, _, _ := h.run(testidp.Approve, "logout", "--no-revoke"); code != 0 {
		t.Fatal("logout --no-revoke failed")
	}
	if status := h.userinfoStatus(strings.TrimSpace(tok)); status != http.StatusOK {
		t.Errorf("--no-revoke revoked: %d", status)
	}
}

// A dead broker makes revocation fail: the tokens go all the same, and
// the user is told in one line that the grant may live on (exit 3).
func TestLogoutWithDeadBrokerRemovesTokens(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login()
	h.env["SESAME_BROKER"] = "http://127.0.0.1:1"
	code, _, errb := h.run(testidp.Approve, "logout")
	first, _, _ := strings.Cut(errb, "\n")
	if code != ExitNotRevoked || !strings.Contains(first, "could not reach the revocation endpoint") || !strings.Contains(first, "may stay active") {
		t.Fatalf("logout with a dead broker: %d %q", code, errb)
	}
	if code, _, _ := h.run(testidp.Approve, "token"); code != ExitLoginRequired {
		t.Errorf("token after logout: %d", code)
	}
}

func TestExec(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login()
	_, tok, _ := h.run(testidp.Approve, "token")
	code, out, errb := h.run(testidp.Approve, "exec", "--", "sh", "-c", `test "$SESAME_ACCESS_TOKEN" = "$1" && echo same`, "sh", strings.TrimSpace(tok))
	if code != 0 || out != "same\n" {
		t.Fatalf("exec: %d %q %s", code, out, errb)
	}
	if code, _, _ := h.run(testidp.Approve, "exec", "--", "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exit code %d, want 7", code)
	}
	if code, _, _ := h.run(testidp.Approve, "exec", "--", "no-such-command-here"); code != 127 {
		t.Errorf("missing command: %d", code)
	}
}

func TestUserinfoRefreshesOnceOn401(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login()
	_, tok, _ := h.run(testidp.Approve, "token")
	resp, err := http.PostForm(h.idp.Endpoint("/revoke"), url.Values{"token": {strings.TrimSpace(tok)}, "client_id": {h.idp.ClientID()}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	code, out, errb := h.run(testidp.Approve, "userinfo")
	var info map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &info) != nil || info["sub"] != testidp.Subject {
		t.Fatalf("userinfo: %d %q %s", code, out, errb)
	}
	if h.idp.Grants("refresh_token") != 1 {
		t.Errorf("%d refreshes", h.idp.Grants("refresh_token"))
	}
}

func (h *harness) userinfoStatus(token string) int {
	req, _ := http.NewRequest(http.MethodGet, h.idp.Endpoint("/userinfo"), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestIntrospect(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	h.login()
	code, out, errb := h.run(testidp.Approve, "introspect", "--json")
	var resp map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &resp) != nil || resp["active"] != true || resp["sub"] != testidp.Subject {
		t.Fatalf("introspect: %d %q %s", code, out, errb)
	}
	code, out, _ = h.run(testidp.Approve, "introspect", "--refresh-token")
	// Columns are aligned to the widest key (term.Table): match any spacing.
	if code != 0 || !regexp.MustCompile(`^active:\s+true\n`).MatchString(out) || !regexp.MustCompile(`token_type:\s+refresh_token`).MatchString(out) {
		t.Errorf("human: %d\n%s", code, out)
	}
	code, out, _ = h.run(testidp.Approve, "introspect")
	if code != 0 || !regexp.MustCompile(`exp:\s+20`).MatchString(out) || !strings.Contains(out, "(in ") {
		t.Errorf("human: %d\n%s", code, out)
	}
	if code, out, _ := h.run(testidp.Approve, "introspect", "not-a-token"); code != ExitError || !regexp.MustCompile(`active:\s+false`).MatchString(out) {
		t.Errorf("unknown token: %d %q", code, out)
	}
}

func TestHeadlessLoginSuggestsDevice(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	delete(h.env, "DISPLAY")
	b := h.idp.Browser(testidp.Approve)
	var out, errb strings.Builder
	f := NewFactory(strings.NewReader(""), &out, &errb, func(k string) string { return h.env[k] })
	f.Browser = b
	code := Run(t.Context(), f, []string{"login", "--issuer", h.idp.Issuer, "--client-id", h.idp.ClientID()})
	if code != ExitError || !strings.Contains(errb.String(), "sesame login --device") || b.URL() != "" || out.String() != "" {
		t.Fatalf("headless login: %d %q %q", code, out.String(), errb.String())
	}
	h.env["BROWSER"] = "w3m" // a browser configured: no refusal
	h.login()                // $BROWSER set: a browser can open

}

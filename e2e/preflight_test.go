package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The first mistakes people make, a client id the provider does not know
// and a redirect URI it does not accept, fail before the browser opens,
// in seconds, naming the client or the redirect URI to register: against
// the suite's provider, which offers pushed authorization requests
// (RFC 9126) and matches loopback redirect URIs with any port, and against
// one that offers no pushed requests and matches redirect URIs exactly,
// which sesame checks with one GET of the authorization URL.

// fastFail is how long a refused login may take, from start to exit.
const fastFail = 10 * time.Second

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// exactIdP is the second kind of provider: no PAR, every client
// registered with http://127.0.0.1:PORT/callback alone, matched exactly.
func exactIdP(t *testing.T) (*IdP, int) {
	t.Helper()
	port := freePort(t)
	idp := startIdP(t, "--no-par", "--exact-redirect", "http://127.0.0.1:"+strconv.Itoa(port)+"/callback")
	return idp, port
}

// refused runs a login that the provider must refuse before the browser
// opens, and checks what every such login must do: exit 1 in under
// fastFail, say each of want on stderr, open no browser, store nothing
// and write no profile.
func refused(t *testing.T, e *Env, idp *IdP, clientID string, extra []string, want ...string) Result {
	t.Helper()
	os.Remove(e.BrowserLog)
	args := append([]string{"login", "--issuer", idp.Issuer, "--client-id", clientID, "--timeout", "60s"}, extra...)
	r := e.run(args...)
	t.Logf("sesame %s (exit %d, %s):\n%s", strings.Join(args, " "), r.Code, r.Took.Round(time.Millisecond), r.Stderr)
	if r.Code != 1 {
		t.Errorf("exit %d, want 1", r.Code)
	}
	if r.Took >= fastFail {
		t.Errorf("the refused login took %s, want under %s", r.Took, fastFail)
	}
	if !strings.Contains(r.Stderr, "refused the login before the browser opened") {
		t.Errorf("stderr does not say the provider refused the login:\n%s", r.Stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.Stderr)
		}
	}
	if r.Stdout != "" {
		t.Errorf("stdout: %q", r.Stdout)
	}
	// The browser stand-in logs every URL it is opened at: none.
	if log := e.browserLog(); log != "" {
		t.Errorf("the browser was opened:\n%s", log)
	}
	if e.stored() != "" {
		t.Error("a refused login stored tokens")
	}
	if _, err := os.Stat(filepath.Join(e.Home, ".config", "sesame", "config.yaml")); err == nil {
		t.Error("a refused login wrote the profile")
	}
	return r
}

// count counts the provider's events named name for client.
func count(evs []Event, name, client string) int {
	n := 0
	for _, ev := range evs {
		if ev["event"] == name && (client == "" || ev["client_id"] == client) {
			n++
		}
	}
	return n
}

func TestPreflightUnknownClient(t *testing.T) {
	requireE2E(t)
	t.Run("pushed", func(t *testing.T) {
		idp := startIdP(t)
		refused(t, newEnv(t), idp, "no-such-client", nil,
			"invalid_client", `check client_id "no-such-client" at the provider`)
		if n := count(idp.events(t), "pushed_authorization_request.error", ""); n != 1 {
			t.Errorf("the provider saw %d refused pushed requests, want 1", n)
		}
	})
	t.Run("exact-no-PAR", func(t *testing.T) {
		idp, _ := exactIdP(t)
		refused(t, newEnv(t), idp, "no-such-client", nil,
			"its authorization endpoint answered HTTP 400", "invalid_client", `check client_id "no-such-client" at the provider`)
		evs := idp.events(t)
		if n := count(evs, "authorization.error", ""); n != 1 || count(evs, "pushed_authorization_request.error", "") != 0 {
			t.Errorf("the provider saw %d refused authorization requests, want 1 GET and no push", n)
		}
	})
}

func TestPreflightUnregisteredRedirect(t *testing.T) {
	requireE2E(t)
	t.Run("pushed-any-port", func(t *testing.T) {
		idp := startIdP(t)
		e := newEnv(t)
		// sesame-localhost registered http://localhost/callback; sesame
		// sends 127.0.0.1 (RFC 8252 §8.3).
		refused(t, e, idp, "sesame-localhost", nil, "redirect_uri did not match",
			"register the redirect URI http://127.0.0.1/callback for client_id \"sesame-localhost\"", "--port")
		port := strconv.Itoa(freePort(t))
		refused(t, e, idp, "sesame-localhost", []string{"--port", port},
			"register the redirect URI http://127.0.0.1:"+port+"/callback for client_id \"sesame-localhost\"")
	})
	t.Run("exact-no-PAR", func(t *testing.T) {
		idp, registered := exactIdP(t)
		e := newEnv(t)
		// A random port is not the registered one.
		refused(t, e, idp, "sesame-cli", nil, "invalid_redirect_uri",
			"register the redirect URI http://127.0.0.1/callback", "pin a port (--port 8765, or port: in the profile)")
		// Nor is another pinned port; the message names the one sent.
		other := freePort(t)
		if other == registered {
			other = freePort(t)
		}
		refused(t, e, idp, "sesame-cli", []string{"--port", strconv.Itoa(other)},
			"invalid_redirect_uri", "register the redirect URI http://127.0.0.1:"+strconv.Itoa(other)+"/callback for client_id \"sesame-cli\"")
		if n := count(idp.events(t), "authorization.error", "sesame-cli"); n != 2 {
			t.Errorf("the provider saw %d refused authorization requests, want 2", n)
		}
	})
}

// A good login goes through the check: pushed where the provider offers
// it, so the browser's URL carries a request_uri, and with one GET where
// it does not.
func TestPreflightLetsGoodLoginsThrough(t *testing.T) {
	requireE2E(t)
	t.Run("pushed", func(t *testing.T) {
		idp := startIdP(t)
		e := newEnv(t)
		if r := e.login(idp); r.Code != 0 {
			t.Fatalf("login: exit %d\n%s\nbrowser: %s", r.Code, r.Stderr, e.browserLog())
		}
		evs := idp.events(t)
		if count(evs, "pushed_authorization_request.success", "sesame-cli") != 1 || count(evs, "authorization.success", "sesame-cli") != 1 {
			t.Errorf("the login was not pushed, then authorized, once: %v", evs)
		}
		if page := e.browserDone(); !strings.Contains(page["text"].(string), "Signed in") {
			t.Errorf("browser page: %v", page)
		}
	})
	t.Run("exact-no-PAR", func(t *testing.T) {
		idp, port := exactIdP(t)
		e := newEnv(t)
		if r := e.login(idp, "--port", strconv.Itoa(port)); r.Code != 0 {
			t.Fatalf("login on the registered port: exit %d\n%s\nbrowser: %s", r.Code, r.Stderr, e.browserLog())
		}
		evs := idp.events(t)
		if count(evs, "pushed_authorization_request.success", "") != 0 || count(evs, "authorization.error", "") != 0 {
			t.Errorf("events: %v", evs)
		}
		if tok := strings.TrimSpace(e.mustRun("token").Stdout); tok == "" {
			t.Error("no token after the login")
		}
	})
}

// --no-preflight opens the browser at once; the provider's error page is
// then all there is, and the timeout says what to check rather than to
// wait longer.
func TestNoPreflight(t *testing.T) {
	requireE2E(t)
	idp, _ := exactIdP(t)
	e := newEnv(t)
	os.Remove(e.BrowserLog)
	r := e.run("login", "--issuer", idp.Issuer, "--client-id", "no-such-client", "--no-preflight", "--timeout", "8s")
	if r.Code != 1 || e.openedURL() == "" {
		t.Fatalf("--no-preflight: exit %d, browser %q\n%s", r.Code, e.browserLog(), r.Stderr)
	}
	for _, want := range []string{"timed out after 8s", "nothing came back", `check client_id "no-such-client"`, "sesame doctor --client-id no-such-client"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
	if strings.Contains(r.Stderr, "--timeout") {
		t.Errorf("the timeout suggests waiting longer, though nothing came back:\n%s", r.Stderr)
	}
	if page := e.browserDone(); page["event"] != "error" {
		t.Errorf("the browser stand-in should have met the provider's error page: %v", page)
	}
}

// `sesame doctor --client-id` answers "would my client and redirect work
// here?" without a login.
func TestDoctorChecksClient(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)
	dir := filepath.Join(e.Home, ".config", "sesame")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	profile := "profiles:\n  " + e.Profile + ":\n    issuer: " + idp.Issuer + "\n"
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.run("doctor", "--issuer", idp.Issuer, "--client-id", "no-such-client")
	if r.Code != 1 || !strings.Contains(r.Stdout, `✗ client: client_id "no-such-client" with redirect URI http://127.0.0.1:`) ||
		!strings.Contains(r.Stdout, `→ check client_id "no-such-client" at the provider`) {
		t.Errorf("doctor with an unknown client: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = e.run("doctor", "--issuer", idp.Issuer, "--client-id", "sesame-localhost", "--json")
	if r.Code != 1 || !strings.Contains(r.Stdout, `"check": "client"`) || !strings.Contains(r.Stdout, "register the redirect URI http://127.0.0.1/callback") {
		t.Errorf("doctor with an unregistered redirect: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = e.run("doctor", "--issuer", idp.Issuer, "--client-id", "sesame-cli")
	if r.Code != 0 || !strings.Contains(r.Stdout, "✓ client: ") || !strings.Contains(r.Stdout, "pushed authorization request accepted") {
		t.Errorf("doctor with a good client: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if log := e.browserLog(); log != "" {
		t.Errorf("doctor opened the browser:\n%s", log)
	}
}

// Through sesame-broker the request is pushed with the confidential
// client's credentials, which the CLI never has.
func TestPreflightThroughBroker(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	b := startBroker(t, idp)
	e := newEnv(t)
	r := e.run("login", "--issuer", idp.Issuer, "--client-id", idp.SecretClient, "--broker", b.URL, "--timeout", "60s")
	if r.Code != 0 {
		t.Fatalf("login through the broker: exit %d\n%s\nbrowser: %s", r.Code, r.Stderr, e.browserLog())
	}
	if n := count(idp.events(t), "pushed_authorization_request.success", idp.SecretClient); n != 1 {
		t.Errorf("the provider saw %d pushed requests of the confidential client, want 1", n)
	}
	// Pushed directly, without the broker, the confidential client is
	// refused at once: proof that the broker added the credentials.
	direct := newEnv(t)
	direct.Profile += "-direct" // the login above is stored under the test's name
	refused(t, direct, idp, idp.SecretClient, nil, "invalid_client")
}

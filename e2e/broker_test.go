package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Broker is a running sesame-broker process.
type Broker struct {
	URL  string
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startBroker runs the broker for idp's confidential client, with the
// secret in its environment only.
func startBroker(t *testing.T, idp *IdP, args ...string) *Broker {
	t.Helper()
	cmd := exec.Command(brokerBin, append([]string{"--listen", "127.0.0.1:0", "--issuer", idp.Issuer,
		"--client-id", idp.SecretClient, "--log-format", "json", "--log-level", "debug"}, args...)...)
	cmd.Env = []string{"SESAME_BROKER_CLIENT_SECRET=" + idp.Secret, "PATH=" + os.Getenv("PATH")}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		recordBrokerLog(logs.String())
		if t.Failed() {
			t.Logf("broker log:\n%s", logs.String())
		}
	})
	url := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(io.TeeReader(stdout, logs))
		for s.Scan() {
			var l map[string]any
			if json.Unmarshal(s.Bytes(), &l) == nil && l["msg"] == "listening" {
				url <- l["url"].(string)
			}
		}
	}()
	select {
	case u := <-url:
		return &Broker{URL: u, logs: logs}
	case <-time.After(20 * time.Second):
		t.Fatalf("broker did not start:\n%s", logs.String())
	}
	return nil
}

// The CLI signs in as a confidential client through the broker: the IdP
// sees the client authenticate, and no secret is anywhere on the CLI side.
func TestLoginThroughBroker(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	b := startBroker(t, idp)
	e := newEnv(t)

	r := e.run("login", "--issuer", idp.Issuer, "--client-id", idp.SecretClient, "--broker", b.URL, "--timeout", "60s")
	if r.Code != 0 {
		t.Fatalf("login through the broker: exit %d\n%s\nbrowser: %s", r.Code, r.Stderr, e.browserLog())
	}
	tok := strings.TrimSpace(e.mustRun("token").Stdout)
	if code, info := userinfo(t, idp, tok); code != 200 || info["sub"] != "alice" {
		t.Fatalf("userinfo: %d %v", code, info)
	}
	// A refresh goes through the broker too.
	fresh := strings.TrimSpace(e.mustRun("token", "--min-ttl", "2h").Stdout)
	if fresh == tok {
		t.Fatal("no refresh")
	}
	if code, _ := userinfo(t, idp, fresh); code != 200 {
		t.Errorf("userinfo after refresh: %d", code)
	}

	grants := map[string]int{}
	for _, ev := range idp.events(t) {
		if ev["event"] == "grant.success" {
			if ev["client_id"] != idp.SecretClient {
				t.Errorf("grant for client %v", ev["client_id"])
			}
			grants[ev["grant_type"].(string)]++
		}
	}
	if grants["authorization_code"] != 1 || grants["refresh_token"] != 1 {
		t.Errorf("IdP saw grants %v, want one code exchange and one refresh by the confidential client", grants)
	}

	// The confidential client needs its secret at the token endpoint, so
	// without the broker nothing works: proof the CLI has no secret.
	direct := e.run("login", "--broker", "", "--timeout", "60s")
	if direct.Code == 0 || !strings.Contains(direct.Stderr, "invalid_client") {
		t.Errorf("login without the broker: exit %d\n%s", direct.Code, direct.Stderr)
	}
	if hits := filesContaining(t, e.Home, idp.Secret); len(hits) > 0 {
		t.Errorf("the client secret is in CLI files: %v", hits)
	}
	if strings.Contains(string(e.decoded()), idp.Secret) {
		t.Error("the client secret is in the keychain")
	}
	// The broker's debug log holds none of what passed through it: the
	// client secret it adds, the codes and verifiers it forwards, every
	// refresh token, the spent ones too, and the tokens it relays back.
	secrets := idp.secretsOf(t, idp.SecretClient)
	secrets.add("client secret", idp.Secret)
	for kind, least := range map[string]int{"authorization code": 1, "code verifier": 1, "refresh token": 2, "access token": 2, "ID token": 1} {
		if n := secrets.count(kind); n < least {
			t.Errorf("the provider recorded %d %ss for the broker's client, want at least %d: the check below would miss them", n, kind, least)
		}
	}
	f := newFinder(secrets)
	for _, v := range f.find([]byte(b.logs.String())) {
		t.Errorf("the broker logged the %s", f.describe(v))
	}
	if got := f.find([]byte(tok)); len(got) != 1 {
		t.Errorf("the search does not find the access token in itself: %d hits", len(got))
	}
	t.Logf("the broker's debug log (%d bytes) holds none of %d secrets (%s)", len(b.logs.String()), len(secrets), secrets.byKind())
}

// startBrokerConfig runs the broker as startBroker does, but from a
// configuration file, with env as its whole environment (the client
// secrets the file names) and args after --config.
func startBrokerConfig(t *testing.T, config string, env []string, args ...string) *Broker {
	t.Helper()
	cmd := exec.Command(brokerBin, append([]string{"--config", config}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		recordBrokerLog(logs.String())
		if t.Failed() {
			t.Logf("broker log (%s):\n%s", strings.Join(args, " "), logs.String())
		}
	})
	url, exited := make(chan string, 1), make(chan struct{})
	go func() {
		defer close(exited)
		s := bufio.NewScanner(io.TeeReader(stdout, logs))
		for s.Scan() {
			var l map[string]any
			if json.Unmarshal(s.Bytes(), &l) == nil && l["msg"] == "listening" {
				url <- l["url"].(string)
			}
		}
	}()
	select {
	case u := <-url:
		return &Broker{URL: u, logs: logs}
	case <-exited:
		t.Fatalf("broker exited:\n%s", logs.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("broker did not start:\n%s", logs.String())
	}
	return nil
}

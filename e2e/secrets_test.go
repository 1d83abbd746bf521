package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The main flows with --verbose logging (SESAME_VERBOSE=1) and the broker
// at debug level: nothing the provider issued or received in this test
// (codes, PKCE verifiers, every access, ID and refresh token, spent ones
// included), nor the client secret, appears in anything sesame or the
// broker writes, except the data a command was asked to print (`sesame
// token` on stdout), nor in any process's command line while `sesame exec`
// holds a token in its child's environment.
func TestSecretsNeverLeak(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	b := startBroker(t, idp)
	e := newEnv(t)
	var logs, data strings.Builder
	verbose := func(isData bool, args ...string) Result {
		t.Helper()
		cmd := exec.Command(sesameBin, append([]string{"--verbose"}, args...)...)
		cmd.Env = append(e.environ(), "SESAME_VERBOSE=1")
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		r := Result{Stdout: out.String(), Stderr: errb.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.Code = ee.ExitCode()
		}
		logs.WriteString(r.Stderr)
		if isData {
			data.WriteString(r.Stdout)
		} else {
			logs.WriteString(r.Stdout)
		}
		recordOutput(args, r.Stdout, r.Stderr)
		return r
	}

	login := []string{"login", "--issuer", idp.Issuer, "--client-id", idp.SecretClient, "--broker", b.URL, "--timeout", "60s"}
	if r := verbose(false, login...); r.Code != 0 {
		t.Fatalf("login: %s", r.Stderr)
	}
	if !strings.Contains(logs.String(), "sesame: debug: POST "+b.URL+"/token: 200") {
		t.Errorf("--verbose did not log the exchange:\n%s", logs.String())
	}
	verbose(true, "token")
	verbose(true, "token", "--format", "env")
	verbose(false, "status")
	verbose(false, "status", "--json")
	verbose(false, "refresh")
	verbose(false, "userinfo")
	verbose(false, "introspect")
	verbose(false, "claims")
	verbose(true, "token", "--min-ttl", "2h", "--format", "json") // a refresh through the broker
	e.Action = "bad-code"
	verbose(false, login...) // a failed login
	e.Action = "approve"

	access := accessToken(t, e)
	cmdlines, environ := cmdlinesDuringExec(t, e)
	if !strings.Contains(environ, "SESAME_ACCESS_TOKEN="+access+"\x00") {
		t.Error("the child of sesame exec did not hold the access token while the command lines were read")
	}

	verbose(false, "revoke", "--access-token")
	verbose(false, "logout")

	// Everything the provider issued or received in this test, which is
	// what went through the broker: the broker's client must have codes,
	// verifiers and refresh tokens, spent ones included, to look for.
	secrets := idp.secrets(t)
	broker := idp.secretsOf(t, idp.SecretClient)
	for kind, least := range map[string]int{"authorization code": 2, "code verifier": 2, "refresh token": 3, "access token": 3, "ID token": 1} {
		if n := broker.count(kind); n < least {
			t.Errorf("the provider recorded %d %ss for the broker's client, want at least %d", n, kind, least)
		}
	}
	f := newFinder(secrets)
	for where, hay := range map[string]string{
		"sesame's verbose output":  logs.String(),
		"the broker's debug log":   b.logs.String(),
		"a process's command line": cmdlines,
	} {
		for _, v := range f.find([]byte(hay)) {
			t.Errorf("the %s appears in %s", f.describe(v), where)
		}
	}
	// The same search finds what sesame token printed on stdout, which is
	// data and left out above: proof that it finds what is there.
	if got := f.find([]byte(data.String())); !slices.Contains(got, access) {
		t.Errorf("the search misses the access token in what sesame token printed (found %d secrets)", len(got))
	}
	t.Logf("checked %d secrets (%s) against %d bytes of verbose output, %d of broker debug logs and %d of command lines",
		len(secrets), secrets.byKind(), logs.Len(), len(b.logs.String()), len(cmdlines))
}

// cmdlinesDuringExec runs `sesame exec` with a child that reports its pid
// and waits on its stdin: while it holds the token, every process's
// command line is read, and the child's environment as proof of that.
func cmdlinesDuringExec(t *testing.T, e *Env) (cmdlines, environ string) {
	t.Helper()
	cmd := exec.Command(sesameBin, "exec", "--", "sh", "-c", "echo $$; read _")
	cmd.Env = e.environ()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close() // the child's read returns, and it exits
		cmd.Wait()
		recordOutput([]string{"exec"}, "", stderr.String())
	}()
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- strings.TrimSpace(line)
	}()
	var pid string
	select {
	case pid = <-ready:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the child of sesame exec did not start:\n%s", stderr.String())
	}
	if _, err := strconv.Atoi(pid); err != nil {
		t.Fatalf("the child of sesame exec printed %q:\n%s", pid, stderr.String())
	}
	cmdlines = readCmdlines(t)
	env, err := os.ReadFile("/proc/" + pid + "/environ")
	if err != nil {
		t.Fatalf("the child's environment: %v", err)
	}
	return cmdlines, string(env)
}

// accessToken is the env's stored access token.
func accessToken(t *testing.T, e *Env) string {
	t.Helper()
	var s struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(e.decoded(), &s); err != nil {
		t.Fatalf("stored tokens: %v", err)
	}
	return s.AccessToken
}

// readCmdlines concatenates every process's command line.
func readCmdlines(t *testing.T) string {
	t.Helper()
	paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var all strings.Builder
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			all.Write(b)
			all.WriteByte('\n')
		}
	}
	return all.String()
}

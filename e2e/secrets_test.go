package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The main flows with --verbose logging (SESAME_VERBOSE=1) and the broker
// at debug level: no token, code or client secret appears in anything
// sesame or the broker writes, except the data a command was asked to print
// (`sesame token` on stdout), nor in any process's command line.
func TestSecretsNeverLeak(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	b := startBroker(t, idp)
	e := newEnv(t)
	var logs strings.Builder
	secrets := map[string]string{"client secret": idp.Secret}
	remember := func() {
		var tk struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
			IDToken      string `json:"id_token"`
		}
		if raw := e.stored(); raw != "" {
			json.Unmarshal(e.decoded(), &tk)
			for k, v := range map[string]string{"access token": tk.AccessToken, "refresh token": tk.RefreshToken, "ID token": tk.IDToken} {
				if v != "" {
					secrets[k+" "+v[:6]] = v
				}
			}
		}
	}
	verbose := func(data bool, args ...string) Result {
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
		if !data {
			logs.WriteString(r.Stdout)
		}
		remember()
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

	// The token in a child's environment, never in its command line.
	cmd := exec.Command(sesameBin, "exec", "--", "sleep", "1")
	cmd.Env = e.environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	cmdlines := readCmdlines(t)
	cmd.Wait()

	verbose(false, "revoke", "--access-token")
	verbose(false, "logout")

	for _, l := range strings.Split(e.browserLog(), "\n") { // the codes the listener received
		var ev struct {
			FinalURL string `json:"final_url"`
		}
		if json.Unmarshal([]byte(l), &ev) == nil && strings.Contains(ev.FinalURL, "code=") {
			code := strings.SplitN(strings.SplitN(ev.FinalURL, "code=", 2)[1], "&", 2)[0]
			secrets["authorization code "+code[:4]] = code
		}
	}
	all := logs.String() + b.logs.String()
	for name, v := range secrets {
		if len(v) < 8 {
			continue
		}
		if strings.Contains(all, v) {
			t.Errorf("the %s appears in sesame's or the broker's output", name)
		}
		if strings.Contains(cmdlines, v) {
			t.Errorf("the %s appears in a process's command line", name)
		}
	}
	t.Logf("checked %d secrets against %d bytes of verbose output, broker debug logs and %d bytes of command lines",
		len(secrets), len(all), len(cmdlines))
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

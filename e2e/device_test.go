package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var completeURI = regexp.MustCompile(`\(or open (\S+), which carries the code\)`)

// deviceLogin runs `sesame login --device` on a machine without a browser,
// and has the headless browser play the user on "another device" with the
// URL sesame printed.
func deviceLogin(t *testing.T, e *Env, idp *IdP, action string) (Result, string) {
	t.Helper()
	cmd := exec.Command(sesameBin, "login", "--device", "--issuer", idp.Issuer, "--client-id", "sesame-cli", "--timeout", "60s")
	cmd.Env = e.environ()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	sc := bufio.NewScanner(stderr)
	uri := ""
	for uri == "" && sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if m := completeURI.FindStringSubmatch(sc.Text()); m != nil {
			uri = m[1]
		}
	}
	if uri == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no verification URI printed:\n%s", seen.String())
	}
	browser := exec.Command("node", filepath.Join(repoRoot, "e2e", "browser", "signin.js"), uri)
	browser.Env = append(e.environ(), "SESAME_E2E_BROWSER_ACTION="+action)
	if b, err := browser.CombinedOutput(); err != nil {
		t.Logf("browser: %v\n%s", err, b)
	}
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
	}
	err = cmd.Wait()
	r := Result{Stdout: out.String(), Stderr: withoutDebug(seen.String()), Took: time.Since(start)}
	recordOutput([]string{"login"}, out.String(), seen.String())
	e.recordStored()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.Code = ee.ExitCode()
	}
	return r, uri
}

// Device login (RFC 8628) end to end: sesame prints the URL and code, the
// user approves elsewhere, sesame polls, verifies and stores the tokens.
func TestDeviceLogin(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)
	e.NoBrowser = true // an SSH session: nothing can open here

	r, uri := deviceLogin(t, e, idp, "approve")
	if r.Code != 0 || !strings.Contains(r.Stderr, "enter the code:") || !strings.Contains(uri, "user_code=") {
		t.Fatalf("device login: exit %d\n%s", r.Code, r.Stderr)
	}
	t.Logf("device login took %s (polling every 5s)", r.Took.Round(time.Millisecond))
	tok := strings.TrimSpace(e.mustRun("token").Stdout)
	if code, info := userinfo(t, idp, tok); code != 200 || info["sub"] != "alice" {
		t.Errorf("userinfo: %d %v", code, info)
	}
	if rt := refreshToken(t, e); rt == "" {
		t.Error("device login stored no refresh token")
	}
	e.mustRun("refresh")

	before := e.stored()
	r, _ = deviceLogin(t, e, idp, "deny")
	if r.Code != 1 || !strings.Contains(r.Stderr, "access_denied") {
		t.Errorf("denied device login: exit %d\n%s", r.Code, r.Stderr)
	}
	if e.stored() != before {
		t.Error("a denied device login changed the stored tokens")
	}
}

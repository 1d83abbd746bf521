package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the tests run this binary's main as a child process, so
// that exit codes and signal handling are those of the real command.
func TestMain(m *testing.M) {
	if os.Getenv("SESAME_BROKER_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func command(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append([]string{"SESAME_BROKER_RUN_MAIN=1", "PATH=" + os.Getenv("PATH")}, env...)
	return cmd
}

func TestBadConfigurationExits2(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--client-id", "a", "--issuer", "https://idp.example"}, // no secret
		{"--client-id", "a", "--issuer", "https://idp.example", "--client-secret", "s"},
		{"--config", "/nonexistent/broker.yaml"},
	} {
		cmd := command(t, nil, args...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("%q: %v, want exit 2\n%s", args, err, out)
		}
	}
}

// TestSIGTERMShutsDownCleanly starts the real binary, waits until it
// serves, sends SIGTERM and expects exit 0.
func TestSIGTERMShutsDownCleanly(t *testing.T) {
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		host := "http://" + r.Host
		_, _ = io.WriteString(w, `{"issuer":"`+host+`","authorization_endpoint":"`+host+`/auth","token_endpoint":"`+host+`/token"}`)
	}))
	defer idp.Close()
	cmd := command(t, []string{"SESAME_BROKER_CLIENT_SECRET=s"},
		"--listen", "127.0.0.1:0", "--issuer", idp.URL, "--client-id", "a", "--log-format", "json")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()

	lines := bufio.NewScanner(stdout)
	re := regexp.MustCompile(`"url":"([^"]+)"`)
	var url string
	for url == "" && lines.Scan() {
		if m := re.FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("the broker did not start: %s", stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	resp, err := http.Get(url + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	resp.Body.Close()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v (stderr %s)", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit within 10s of SIGTERM")
	}
}

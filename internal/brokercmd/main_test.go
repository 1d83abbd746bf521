package brokercmd

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testClientID = "cli:ent/1"
	testSecret   = "s3cr3t+/=:%value"
)

// slowProvider is an OpenID provider whose token endpoint answers after
// delay; internal/broker's tests have the fake that checks what arrives.
func slowProvider(t *testing.T, delay time.Duration) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/.well-known/openid-configuration" {
			host := "http://" + r.Host
			_, _ = io.WriteString(w, `{"issuer":"`+host+`","authorization_endpoint":"`+host+`/auth","token_endpoint":"`+host+`/token"}`)
			return
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, `{"access_token":"a","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(srv.Close)
	return srv
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

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startMain runs Main like the binary does and returns the API's URL, a
// function that sends SIGTERM's equivalent, and the exit code channel.
func startMain(t *testing.T, args []string, getenv func(string) string) (string, context.CancelFunc, <-chan int, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	code := make(chan int, 1)
	go func() { code <- Main(ctx, args, stdout, stderr, getenv) }()
	re := regexp.MustCompile(`"url":"([^"]+)"`)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], cancel, code, stderr
		}
		select {
		case c := <-code:
			t.Fatalf("Main exited %d: %s", c, stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("Main did not start: %s %s", stdout, stderr)
	return "", nil, nil, nil
}

// TestMainDrainsOnShutdown: a request in flight when the signal arrives
// still gets its answer, and Main exits 0.
func TestMainDrainsOnShutdown(t *testing.T) {
	idp := slowProvider(t, 300*time.Millisecond)
	url, stop, code, _ := startMain(t, []string{"--listen", "127.0.0.1:0", "--issuer", idp.URL,
		"--client-id", testClientID, "--log-format", "json", "--rate-limit", "0"}, envOf(SecretEnv, testSecret))

	if resp, err := http.Get(url + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz = %v, %v", resp, err)
	} else {
		resp.Body.Close()
	}
	result := make(chan int, 1)
	go func() {
		resp, err := http.Post(url+"/token", "application/x-www-form-urlencoded", strings.NewReader(refreshForm().Encode()))
		if err != nil {
			result <- -1
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond) // the request is now waiting on the provider
	stop()
	if got := <-result; got != 200 {
		t.Errorf("in-flight request got %d, want 200 after draining", got)
	}
	select {
	case c := <-code:
		if c != ExitOK {
			t.Errorf("exit code %d, want 0", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Main did not return after shutdown")
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func refreshForm() url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID}, "refresh_token": {"REFRESH-TOKEN"}}
}

func TestMainCannotListen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	idp := slowProvider(t, 0)
	var stderr strings.Builder
	code := Main(t.Context(), []string{"--listen", ln.Addr().String(), "--issuer", idp.URL, "--client-id", "a"},
		&strings.Builder{}, &stderr, envOf(SecretEnv, "s"))
	if code != ExitError || !strings.Contains(stderr.String(), "listen on") {
		t.Errorf("exit %d, stderr %q; want 1 and the listen error", code, stderr.String())
	}
}

package loopback

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A pinned port something else listens on (another login waiting for
// its browser) is one line that says so and what to do.
func TestBusyPort(t *testing.T) {
	other := start(t, Options{})
	port := other.ln.Addr().(*net.TCPAddr).Port
	_, err := Listen(Options{Port: port, State: "s"})
	var busy *PortBusyError
	if !errors.As(err, &busy) || busy.Port != port {
		t.Fatalf("err %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"port " + strconv.Itoa(port) + " on 127.0.0.1 is in use", "another sesame login", "--port", "port: in the profile"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") || !isAddrInUse(err) {
		t.Errorf("%q", msg)
	}
}

// StartWith decides where the start URL leads when it is opened, and
// Opened says whether it was.
func TestStartWith(t *testing.T) {
	s := start(t, Options{})
	calls := 0
	u, err := s.StartWith(func() (string, error) { calls++; return "https://idp.example/auth?request_uri=urn:x", nil })
	if err != nil || s.Opened() || calls != 0 {
		t.Fatalf("before the fetch: %v, opened %v, %d calls", err, s.Opened(), calls)
	}
	status, h, _ := fetch(t, u)
	if status != 302 || h.Get("Location") != "https://idp.example/auth?request_uri=urn:x" || !s.Opened() || calls != 1 {
		t.Fatalf("%d %q, opened %v, %d calls", status, h.Get("Location"), s.Opened(), calls)
	}
}

// A target that cannot be had (an expired pushed request that could not
// be pushed again) stops the login with its error, and the browser is
// told to look at the terminal.
func TestStartWithFails(t *testing.T) {
	for _, target := range []func() (string, error){
		func() (string, error) { return "", errors.New("the provider is gone") },
		func() (string, error) { return "javascript:alert(1)", nil },
	} {
		s := start(t, Options{})
		u, _ := s.StartWith(target)
		status, _, body := fetch(t, u)
		if status != 502 || !strings.Contains(body, "could not be started") {
			t.Errorf("%d %s", status, body)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := s.Wait(ctx)
		cancel()
		if err == nil || !strings.HasPrefix(err.Error(), "start the sign-in: ") || s.Err() == nil {
			t.Errorf("Wait: %v", err)
		}
	}
}

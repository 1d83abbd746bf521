package login

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/loopback"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// terminal is one stream both the sanitised stderr and the raw progress
// writer go to, as on a real terminal; safe for concurrent writes.
type terminal struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (t *terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.Write(p)
}

func (t *terminal) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}

// slowBrowser approves after a while, so that the waiting screen ticks.
type slowBrowser struct {
	after time.Duration
	b     *testidp.Browser
	err   error
	block chan struct{} // when set, Open does not return until it is closed
}

func (s *slowBrowser) Open(u string) error {
	if s.block != nil {
		<-s.block
	}
	if s.err != nil || s.b == nil {
		return cmp.Or(s.err, errors.New("the launcher gave up"))
	}
	go func() { time.Sleep(s.after); s.b.Open(u) }()
	return nil
}

func interactive(t *testing.T, idp *testidp.IdP, br *slowBrowser) (Options, *terminal) {
	t.Helper()
	var saved []*session.Tokens
	o := options(t, idp, nil, &saved)
	term := &terminal{}
	o.Browser, o.Stderr, o.Progress, o.Interactive = br, term, term, true
	o.tick, o.hintAfter, o.grace = 10*time.Millisecond, 60*time.Millisecond, 200*time.Millisecond
	return o, term
}

// TestWaitingScreen: on a terminal, the login says where the browser went,
// prints the start URL once as the fallback, keeps the elapsed time on one
// line rewritten in place, shows the hint once, and takes the line away
// before the outcome.
func TestWaitingScreen(t *testing.T) {
	idp := testidp.New(t, testidp.Options{})
	br := &slowBrowser{after: 150 * time.Millisecond, b: idp.Browser(testidp.Approve)}
	o, term := interactive(t, idp, br)
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	<-br.b.Done()
	out := term.String()
	host := strings.TrimPrefix(idp.Issuer, "http://")
	for _, want := range []string{
		"Opened your browser at the sign-in page of " + host + ".\n",
		"If it did not open, visit: " + br.b.URL() + "\n",
		eraseLine + "Waiting for the sign-in in the browser: 0:00 (Ctrl-C to cancel)",
		eraseLine + `Nothing yet? If the browser shows an error, check client_id "test-client" and the redirect URI http://127.0.0.1/callback at the provider; ` +
			"`sesame doctor --client-id test-client` checks both.\nWaiting for the sign-in",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the screen lacks %q:\n%q", want, out)
		}
	}
	if strings.Count(out, "Nothing yet?") != 1 || strings.Count(out, br.b.URL()) != 1 {
		t.Errorf("the hint or the URL shown more than once:\n%q", out)
	}
	if !strings.HasSuffix(out, eraseLine) {
		t.Errorf("the progress line was left on the screen:\n%q", out)
	}
	if strings.Contains(out, "Open this URL") {
		t.Errorf("the browser opened, yet the URL is offered as the main way:\n%q", out)
	}
}

// Scripts and logs get the URL and the outcome: no line that changes, no
// carriage return, no hint.
func TestWaitingScreenNotATerminal(t *testing.T) {
	idp := testidp.New(t, testidp.Options{})
	br := &slowBrowser{after: 150 * time.Millisecond, b: idp.Browser(testidp.Approve)}
	o, term := interactive(t, idp, br)
	o.Interactive = false
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	<-br.b.Done()
	out := term.String()
	if out != "Open this URL in a browser to sign in:\n\n  "+br.b.URL()+"\n\n" {
		t.Errorf("stderr %q", out)
	}
}

// A browser that cannot be opened, or whose launcher does not return:
// the URL becomes the way in, and what happened is said.
func TestWaitingScreenBrowserTrouble(t *testing.T) {
	idp := testidp.New(t, testidp.Options{})
	o, term := interactive(t, idp, &slowBrowser{err: errors.New("no xdg-open")})
	o.Timeout = 100 * time.Millisecond
	_, err := Run(context.Background(), o)
	if out := term.String(); !strings.Contains(out, "Could not open a browser (no xdg-open).\nOpen this URL in a browser on this machine to sign in:\n\n  http://127.0.0.1:") {
		t.Errorf("screen %q", out)
	}
	if err == nil || !strings.Contains(err.Error(), "the browser never opened the sign-in address") {
		t.Errorf("err %v", err)
	}

	block := make(chan struct{})
	defer close(block)
	o, term = interactive(t, idp, &slowBrowser{block: block})
	o.Timeout = 400 * time.Millisecond
	Run(context.Background(), o)
	if out := term.String(); !strings.Contains(out, "Opening your browser at the sign-in page of ") || !strings.Contains(out, "If it did not open, visit: http://127.0.0.1:") {
		t.Errorf("screen %q", out)
	}
}

// Warnings during the wait never land inside the progress line.
func TestWaitingScreenWarnings(t *testing.T) {
	term := &terminal{}
	s := newScreen(Options{Interactive: true, Stderr: term, Progress: term})
	s.update("Waiting: 0:01")
	s.println("warning: %s", "refused a sign-in response")
	s.update("Waiting: 0:02")
	s.clear()
	s.println("after")
	want := eraseLine + "Waiting: 0:01" + eraseLine + "warning: refused a sign-in response\n" + "Waiting: 0:01" +
		eraseLine + "Waiting: 0:02" + eraseLine + "after\n"
	if got := term.String(); got != want {
		t.Errorf("screen\n%q\nwant\n%q", got, want)
	}
}

// The timeout message suggests --timeout only when the user was clearly
// signing in; otherwise it says what to check.
func TestTimeoutMessages(t *testing.T) {
	o := Options{ClientID: "cli"}
	for _, tt := range []struct {
		name       string
		w          waited
		want       []string
		suggestsTO bool
	}{
		{"never opened", waited{}, []string{"the browser never opened the sign-in address (check $BROWSER)", "--device"}, false},
		{"no browser, never opened", waited{noBrowser: true}, []string{"nobody opened the sign-in address"}, false},
		{"opened, request checked", waited{opened: true, checked: true}, []string{"the provider's pages were reached but nothing came back"}, true},
		{"opened, not checked", waited{opened: true}, []string{`check client_id "cli"`, "sesame doctor --client-id cli"}, false},
		{"wrong states came back", waited{opened: true, refused: 2}, []string{"2 response(s) with a wrong state were refused"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.w.timeout = 5 * time.Minute
			err := waitError(context.DeadlineExceeded, o, tt.w)
			msg := err.Error()
			for _, w := range append(tt.want, "timed out after 5m0s") {
				if !strings.Contains(msg, w) {
					t.Errorf("%q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "--timeout") != tt.suggestsTO {
				t.Errorf("%q: suggests --timeout %v, want %v", msg, !tt.suggestsTO, tt.suggestsTO)
			}
		})
	}
	if err := waitError(context.Canceled, o, waited{}); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled wait: %v", err)
	}
}

// A pinned port that another login holds fails at once, saying so.
func TestBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	idp := testidp.New(t, testidp.Options{})
	var saved []*session.Tokens
	b := &countingBrowser{}
	o := options(t, idp, nil, &saved)
	o.Browser, o.Port = b, port
	_, err = Run(context.Background(), o)
	var busy *loopback.PortBusyError
	if !errors.As(err, &busy) || !strings.Contains(err.Error(), "port "+strconv.Itoa(port)+" on 127.0.0.1 is in use, perhaps by another sesame login") ||
		strings.Contains(err.Error(), "\n") || b.opened.Load() != 0 {
		t.Errorf("err %v", err)
	}
}

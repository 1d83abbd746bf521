package login

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"sync"
	"time"

	"github.com/sesame-cli/sesame/internal/term"
)

// The waiting screen. On a terminal a login says where the browser went,
// prints the start URL once as the fallback, and keeps one line with the
// time spent waiting, rewritten in place; after hintAfter one more line
// says what to check when the browser shows an error. Scripts and logs get
// the start URL and the outcome only: no line that changes, no hint.
//
// The elapsed time is rewritten with a carriage return, which term.Writer
// (the sanitiser under every human-facing stream) escapes, rightly, in
// anything else: so that line goes to Options.Progress, the raw terminal,
// and holds only text sesame composed. Every other line during the wait
// goes through screen.println, which takes the progress line away first
// and puts it back after, so that warnings never land in the middle of it.

const (
	defaultTick      = time.Second
	defaultHintAfter = 20 * time.Second
	// browserGrace is how long the screen waits for the browser launcher
	// to report before saying the browser was opened.
	browserGrace = 2 * time.Second
)

// eraseLine returns the cursor to the start of the line and clears it.
const eraseLine = "\r\x1b[K"

type screen struct {
	o        Options
	progress io.Writer // nil: no progress line (not a terminal)

	mu    sync.Mutex
	shown string // the progress line on screen, "" when none
}

func newScreen(o Options) *screen {
	s := &screen{o: o}
	if o.Interactive {
		s.progress = o.Progress
	}
	return s
}

// println writes one line of sesame's own (sanitised, like all stderr),
// keeping the progress line below it.
func (s *screen) println(format string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shown != "" {
		io.WriteString(s.progress, eraseLine)
	}
	fmt.Fprintf(s.o.Stderr, format+"\n", a...)
	if s.shown != "" {
		io.WriteString(s.progress, s.shown)
	}
}

func (s *screen) update(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.progress == nil {
		return
	}
	s.shown = line
	io.WriteString(s.progress, eraseLine+line)
}

// clear removes the progress line for good: the outcome follows.
func (s *screen) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shown != "" {
		io.WriteString(s.progress, eraseLine)
		s.shown = ""
	}
	s.progress = nil
}

// announce opens the browser (unless NoBrowser) and tells the user where
// to sign in.
func (s *screen) announce(startURL string, started time.Time) {
	o := s.o
	if !o.Interactive {
		// Scripts and logs: the URL, then the outcome.
		fmt.Fprintf(o.Stderr, "Open this URL in a browser to sign in:\n\n  %s\n\n", startURL)
		if !o.NoBrowser {
			go func() {
				if err := o.Browser.Open(startURL); err != nil {
					s.println("Could not open a browser (%v); open the URL above yourself.", err)
					return
				}
				o.trace("browser", started)
			}()
		}
		return
	}
	if o.NoBrowser {
		fmt.Fprintf(o.Stderr, "Open this URL in a browser on this machine to sign in:\n\n  %s\n\n", startURL)
		return
	}
	// pkg/browser waits for the launcher, which may not return at all
	// (a $BROWSER that stays in the foreground): wait a little, not more.
	opened := make(chan error, 1)
	go func() {
		err := o.Browser.Open(startURL)
		if err == nil {
			o.trace("browser", started)
		}
		opened <- err
	}()
	host := providerHost(o.Endpoints.Auth)
	grace := o.grace
	if grace <= 0 {
		grace = browserGrace
	}
	select {
	case err := <-opened:
		if err != nil {
			fmt.Fprintf(o.Stderr, "Could not open a browser (%v).\nOpen this URL in a browser on this machine to sign in:\n\n  %s\n\n", err, startURL)
			return
		}
		fmt.Fprintf(o.Stderr, "Opened your browser at the sign-in page of %s.\n", host)
	case <-time.After(grace):
		fmt.Fprintf(o.Stderr, "Opening your browser at the sign-in page of %s...\n", host)
		go func() {
			if err := <-opened; err != nil {
				s.println("Could not open a browser (%v); open the URL below yourself.", err)
			}
		}()
	}
	fmt.Fprintf(o.Stderr, "If it did not open, visit: %s\n", startURL)
}

// providerHost names the provider for the user: the authorization
// endpoint's host, cleaned (it came from discovery).
func providerHost(authURL string) string {
	u, err := url.Parse(authURL)
	if err != nil || u.Host == "" {
		return "the provider"
	}
	return term.Clean(u.Host)
}

// tick keeps the elapsed time up to date until ctx ends, and shows the
// hint once after hintAfter.
func (s *screen) tick(ctx context.Context, started time.Time, hint string) {
	if s.progress == nil {
		return
	}
	every, hintAfter := s.o.tick, s.o.hintAfter
	if every <= 0 {
		every = defaultTick
	}
	if hintAfter <= 0 {
		hintAfter = defaultHintAfter
	}
	t := time.NewTicker(every)
	defer t.Stop()
	hinted := false
	for {
		elapsed := time.Since(started)
		if !hinted && elapsed >= hintAfter {
			hinted = true
			s.println("%s", hint)
		}
		s.update(fmt.Sprintf("Waiting for the sign-in in the browser: %s (Ctrl-C to cancel)", clock(elapsed)))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// clock formats d as m:ss.
func clock(d time.Duration) string {
	s := int(d / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// waitHint is the one line shown after hintAfter: the browser may show
// the provider's error page, which sesame cannot see.
func (o Options) waitHint() string {
	return fmt.Sprintf("Nothing yet? If the browser shows an error, check client_id %q and the redirect URI http://127.0.0.1/callback at the provider; `sesame doctor --client-id %s` checks both.",
		o.ClientID, o.ClientID)
}

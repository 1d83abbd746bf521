// Package loopback receives the OAuth authorization response on a one-shot
// HTTP listener bound to 127.0.0.1 (RFC 8252 §7.3). It serves only requests
// addressed to that IP literal, hands the browser the authorization request
// through a one-time start URL, and checks state and, where the provider
// supports it, the RFC 9207 iss parameter before anything else sees the
// response.
package loopback

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/sesame-cli/sesame/internal/term"
)

// CallbackPath is the path of the redirect URI.
const CallbackPath = "/callback"

// Options describe the login the listener serves.
type Options struct {
	Port  int    // 0 picks a free port
	State string // the state sent in the authorization request
	// Issuer, when set, must equal a present iss parameter; with RequireIss
	// the parameter must also be present (RFC 9207 §2.4).
	Issuer     string
	RequireIss bool
	// Warn is told about refused requests that do not end the login.
	Warn func(string)
}

// Response is an accepted authorization response. Exactly one of Code and
// Err is set. The browser waits on Finish for the page to show.
type Response struct {
	Code string
	Err  *AuthError

	reply chan Page
}

// AuthError is an error response from the authorization endpoint
// (RFC 6749 §4.1.2.1), or a response refused for a protocol reason.
type AuthError struct {
	Code, Description, URI string
}

func (e *AuthError) Error() string {
	// Code and Description came in the query: one inert line.
	msg := "the identity provider returned " + term.Clean(e.Code)
	if e.Description != "" {
		msg += ": " + term.Clean(e.Description)
	}
	return msg
}

// Page is what the browser shows once the login has an outcome.
type Page struct {
	OK      bool
	Message string
}

// Finish shows the outcome in the browser. It must be called once.
func (r *Response) Finish(p Page) {
	select {
	case r.reply <- p:
	default:
	}
}

// Server is a running loopback listener.
type Server struct {
	opts    Options
	ln      net.Listener
	host    string // 127.0.0.1:PORT, the only Host served
	srv     *http.Server
	results chan *Response
	stop    chan struct{} // closed when the listener stops the login itself

	mu         sync.Mutex
	target     func() (string, error) // where the start URL redirects
	startPath  string                 // "" until Start
	opened     bool                   // the start URL was fetched
	stopped    error                  // why the listener stopped the login
	accepted   bool
	refused    int
	warnedHost bool
	closing    chan struct{}
	close      sync.Once
}

// Listen binds 127.0.0.1 (never "localhost", which may resolve to another
// interface or to ::1 only; RFC 8252 §8.3) and starts serving.
func Listen(opts Options) (*Server, error) {
	if opts.Warn == nil {
		opts.Warn = func(string) {}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.Port)))
	if err != nil && opts.Port != 0 && isAddrInUse(err) {
		return nil, &PortBusyError{Port: opts.Port, Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1:%d for the login callback: %w", opts.Port, err)
	}
	s := &Server{opts: opts, ln: ln, host: ln.Addr().String(), results: make(chan *Response, 1),
		stop: make(chan struct{}), closing: make(chan struct{})}
	s.srv = &http.Server{
		Handler: s,
		// Slow or idle clients must not hold the login hostage.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       10 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
	go s.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Close
	return s, nil
}

// RedirectURI is the redirect_uri to send: the IP literal and the real port.
func (s *Server) RedirectURI() string {
	return "http://" + s.host + CallbackPath
}

// Start arms the one-time start URL and returns it: the browser is opened
// there instead of at authURL, which carries the state and PKCE challenge,
// because a browser's command line (ps, /proc) is readable by every user
// of the machine. The start URL answers its first GET with a redirect to
// authURL. A second GET means some other program has the address too, and
// possibly the authorization request it led to, so it stops the login: Wait
// and Err then report it. A login calls Start (or StartWith) once, before
// opening the browser.
func (s *Server) Start(authURL string) (string, error) {
	if err := CheckTarget(authURL); err != nil {
		return "", err
	}
	return s.StartWith(func() (string, error) { return authURL, nil })
}

// StartWith is Start with the authorization URL chosen when the start URL
// is first fetched, for one that expires: the request_uri of a pushed
// authorization request lives a minute or so (RFC 9126 §2.2), and with
// --no-browser the user may open the address later than that. When target
// fails, the browser is told, and the login stops with target's error.
func (s *Server) StartWith(target func() (string, error)) (string, error) {
	b := make([]byte, 16) // 128 bits: not guessable while the login waits
	rand.Read(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.target, s.startPath = target, "/start/"+base64.RawURLEncoding.EncodeToString(b)
	return "http://" + s.host + s.startPath, nil
}

// CheckTarget accepts what a start URL may redirect to: an absolute
// http(s) URL.
func CheckTarget(authURL string) error {
	u, err := url.Parse(authURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("the authorization endpoint is not an absolute http(s) URL")
	}
	return nil
}

// Opened reports whether the start URL was fetched: a browser (or the
// user) went on to the provider.
func (s *Server) Opened() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened
}

// Err reports why the listener stopped the login itself (the start URL was
// opened a second time), or nil. A login checks it again before storing
// tokens, since the second fetch may come while the code is exchanged.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// Refused reports how many callbacks were refused for a wrong state.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Wait returns the first accepted response, or why the login stopped: Err,
// or ctx's error.
func (s *Server) Wait(ctx context.Context) (*Response, error) {
	select {
	case r := <-s.results:
		if err := s.Err(); err != nil {
			return nil, err // the pending page is answered by Close
		}
		return r, nil
	case <-s.stop:
		return nil, s.Err()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops the listener; pending browser requests get a failure page.
func (s *Server) Close() {
	s.close.Do(func() {
		close(s.closing)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
		}
	})
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// DNS rebinding: a web page can point its own host name at 127.0.0.1 and
	// have the user's browser send requests here, then read the answers as
	// its own. Those requests name that host, never the IP literal the
	// redirect URI and start URL use (the literal, not "localhost": RFC 8252
	// §8.3), so anything else is refused before it is looked at.
	if r.Host != s.host {
		s.warnHost()
		render(w, http.StatusMisdirectedRequest, Page{Message: "This request was not addressed to 127.0.0.1, so it was refused. Open the address sesame printed in the terminal."})
		return
	}
	start := s.isStart(r.URL.Path)
	if r.URL.Path != CallbackPath && !start {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		render(w, http.StatusMethodNotAllowed, Page{Message: "This address only accepts the sign-in redirect."})
		return
	}
	if start {
		s.serveStart(w)
		return
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(s.opts.State)) != 1 {
		// A response for another login, or a forged one (RFC 6749 §10.12).
		// It must not end the real login, so keep waiting.
		s.mu.Lock()
		s.refused++
		s.mu.Unlock()
		s.opts.Warn("refused a sign-in response whose state does not match this login; still waiting")
		render(w, http.StatusBadRequest, Page{Message: "This sign-in response does not belong to the login in progress. Start the login again from the terminal."})
		return
	}
	s.mu.Lock()
	dup, stopped := s.accepted, s.stopped != nil
	s.accepted = true
	s.mu.Unlock()
	if stopped {
		render(w, http.StatusBadRequest, Page{Message: "The login stopped. Return to the terminal for details."})
		return
	}
	if dup {
		render(w, http.StatusConflict, Page{Message: "This login already received its response. Return to the terminal."})
		return
	}
	resp := &Response{reply: make(chan Page, 1)}
	switch iss := q.Get("iss"); {
	case iss == "" && s.opts.RequireIss && s.opts.Issuer != "":
		resp.Err = &AuthError{Code: "issuer_mismatch", Description: "the response has no iss parameter, which the provider promises (RFC 9207 mix-up defence)"}
	case iss != "" && s.opts.Issuer != "" && iss != s.opts.Issuer:
		resp.Err = &AuthError{Code: "issuer_mismatch", Description: fmt.Sprintf("the response names issuer %q, expected %q (RFC 9207 mix-up defence)", iss, s.opts.Issuer)}
	case q.Get("error") != "":
		resp.Err = &AuthError{Code: q.Get("error"), Description: q.Get("error_description"), URI: q.Get("error_uri")}
	case q.Get("code") == "":
		resp.Err = &AuthError{Code: "invalid_response", Description: "the response carries neither a code nor an error"}
	default:
		resp.Code = q.Get("code")
	}
	s.results <- resp
	var page Page
	select {
	case page = <-resp.reply:
	case <-s.closing:
		page = Page{Message: "The login stopped. Return to the terminal for details."}
	case <-r.Context().Done():
		return
	}
	render(w, statusFor(page), page)
	go s.Close() // one accepted callback per login
}

func (s *Server) isStart(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startPath != "" && subtle.ConstantTimeCompare([]byte(path), []byte(s.startPath)) == 1
}

// serveStart redirects the first GET of the start URL to the authorization
// URL and stops the login on any later one.
func (s *Server) serveStart(w http.ResponseWriter) {
	s.mu.Lock()
	again := s.opened
	s.opened = true
	if again && s.stopped == nil {
		s.stopped = fmt.Errorf("the sign-in start address http://%s%s was opened a second time; another program may be watching this login, so it was stopped; run the login again", s.host, s.startPath)
		close(s.stop)
	}
	target := s.target
	s.mu.Unlock()
	if again {
		render(w, http.StatusGone, Page{Message: "This sign-in address was already used, so the login was stopped: another program may have opened it. Return to the terminal and run the login again."})
		return
	}
	authURL, err := target()
	if err == nil {
		err = CheckTarget(authURL)
	}
	if err != nil {
		s.stopWith(fmt.Errorf("start the sign-in: %w", err))
		render(w, http.StatusBadGateway, Page{Message: "The sign-in could not be started. Return to the terminal for details."})
		return
	}
	h := w.Header()
	h.Set("Location", authURL)
	// Never replayed from a cache, and the start URL is not sent on.
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusFound)
}

// stopWith stops the login with err, unless it was stopped already.
func (s *Server) stopWith(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped == nil {
		s.stopped = err
		close(s.stop)
	}
}

// warnHost warns once per login: a hostile page could send many requests.
func (s *Server) warnHost() {
	s.mu.Lock()
	first := !s.warnedHost
	s.warnedHost = true
	s.mu.Unlock()
	if first {
		s.opts.Warn("refused a request addressed to another host than " + s.host + " (a web page trying DNS rebinding?); still waiting")
	}
}

func statusFor(p Page) int {
	if p.OK {
		return http.StatusOK
	}
	return http.StatusBadRequest
}

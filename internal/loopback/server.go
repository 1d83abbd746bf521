// Package loopback receives the OAuth authorization response on a one-shot
// HTTP listener bound to 127.0.0.1 (RFC 8252 §7.3). It checks state and, where
// the provider supports it, the RFC 9207 iss parameter before anything else
// sees the response.
package loopback

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
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
	msg := "the identity provider returned " + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
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
	srv     *http.Server
	results chan *Response

	mu       sync.Mutex
	accepted bool
	refused  int
	closing  chan struct{}
	close    sync.Once
}

// Listen binds 127.0.0.1 (never "localhost", which may resolve to another
// interface or to ::1 only; RFC 8252 §8.3) and starts serving.
func Listen(opts Options) (*Server, error) {
	if opts.Warn == nil {
		opts.Warn = func(string) {}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.Port)))
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1:%d for the login callback: %w", opts.Port, err)
	}
	s := &Server{opts: opts, ln: ln, results: make(chan *Response, 1), closing: make(chan struct{})}
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
	return "http://" + s.ln.Addr().String() + CallbackPath
}

// Refused reports how many callbacks were refused for a wrong state.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Wait returns the first accepted response, or ctx's error.
func (s *Server) Wait(ctx context.Context) (*Response, error) {
	select {
	case r := <-s.results:
		return r, nil
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
	if r.URL.Path != CallbackPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		render(w, http.StatusMethodNotAllowed, Page{Message: "This address only accepts the sign-in redirect."})
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
	dup := s.accepted
	s.accepted = true
	s.mu.Unlock()
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

func statusFor(p Page) int {
	if p.OK {
		return http.StatusOK
	}
	return http.StatusBadRequest
}

package testidp

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Browser stands in for the system browser: Open follows the client's
// one-time start URL to the authorization URL, plays the user at the
// provider, then follows the redirect to the client's loopback listener and
// keeps the page it shows. It satisfies sesame's browser.Opener.
type Browser struct {
	idp    *IdP
	action Action
	http   *http.Client
	once   sync.Once
	done   chan struct{}

	mu     sync.Mutex
	opened string
	status int
	body   string
	err    error
}

// Browser returns a stub browser whose user does a.
func (p *IdP) Browser(a Action) *Browser {
	return &Browser{
		idp: p, action: a, done: make(chan struct{}),
		// The loopback page answers only once the login has finished,
		// token exchange included; the timeout only stops a hung test.
		http: &http.Client{Timeout: 30 * time.Second},
	}
}

// Open starts the visit in the background and returns at once, as a
// browser launcher does. Only the first call visits; later ones fail, since
// a login should open the browser once.
func (b *Browser) Open(url string) error {
	err := errors.New("testidp: the browser was already opened")
	b.once.Do(func() {
		err = nil
		b.mu.Lock()
		b.opened = url
		b.mu.Unlock()
		go b.visit(url)
	})
	return err
}

func (b *Browser) visit(startURL string) {
	defer close(b.done)
	authURL, err := ResolveStart(startURL)
	if err != nil {
		b.finish(0, "", err)
		return
	}
	next, err := b.idp.Authorize(authURL, b.action)
	var ae *AuthorizeError
	if errors.As(err, &ae) && ae.Redirect != "" {
		next, err = ae.Redirect, nil // the provider sends the error back to the client
	}
	if err != nil {
		b.finish(http.StatusBadRequest, err.Error(), err)
		return
	}
	resp, err := b.http.Get(next)
	if err != nil {
		b.finish(0, "", fmt.Errorf("follow the redirect to %s: %w", next, err))
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	b.finish(resp.StatusCode, string(body), err)
}

func (b *Browser) finish(status int, body string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status, b.body, b.err = status, body, err
}

// Done is closed when the visit is over.
func (b *Browser) Done() <-chan struct{} { return b.done }

// URL is the URL the browser was opened with (sesame's start URL), or ""
// before Open.
func (b *Browser) URL() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opened
}

// LastPage is the final page shown: the loopback listener's page, or the
// provider's error page (status 400) when it refused to redirect. It is
// zero until Done is closed.
func (b *Browser) LastPage() (status int, body string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status, b.body
}

// Err reports why the visit did not reach a page: the provider refused to
// redirect, or the loopback listener could not be reached.
func (b *Browser) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

package login

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// testHTTP makes the tests' own requests here: a listener or provider that
// stops answering fails the test in seconds instead of hanging it.
var testHTTP = &http.Client{Timeout: 10 * time.Second}

// recordingBrowser plays the approving user, like testidp.Browser, and
// keeps the authorization request the start URL led to.
type recordingBrowser struct {
	idp  *testidp.IdP
	done chan struct{}

	mu      sync.Mutex
	authURL *url.URL
	err     error
}

func newRecordingBrowser(idp *testidp.IdP) *recordingBrowser {
	return &recordingBrowser{idp: idp, done: make(chan struct{})}
}

func (b *recordingBrowser) Open(startURL string) error {
	go func() {
		defer close(b.done)
		err := b.visit(startURL)
		b.mu.Lock()
		b.err = err
		b.mu.Unlock()
	}()
	return nil
}

func (b *recordingBrowser) visit(startURL string) error {
	authURL, err := testidp.ResolveStart(startURL)
	if err != nil {
		return err
	}
	u, err := url.Parse(authURL)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.authURL = u
	b.mu.Unlock()
	next, err := b.idp.Authorize(authURL, testidp.Approve)
	if err != nil {
		return err
	}
	resp, err := testHTTP.Get(next) // answers once the login has finished
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// query is the authorization request's query; nil before the browser got it.
func (b *recordingBrowser) query() url.Values {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.authURL == nil {
		return nil
	}
	return b.authURL.Query()
}

// wait waits for the visit to end, and fails the test if it went wrong.
func (b *recordingBrowser) wait(t *testing.T) {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the browser's visit did not end")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		t.Fatalf("browser: %v", b.err)
	}
}

// tokenRequests records the form of every request to the token endpoint,
// and lets the provider answer it as usual.
type tokenRequests struct {
	mu    sync.Mutex
	forms []url.Values
}

func recordTokenRequests(t *testing.T, idp *testidp.IdP) *tokenRequests {
	rec := &tokenRequests{}
	tokenPath := mustPath(t, idp.Endpoint("/token"))
	idp.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != tokenPath {
			return false
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return true
		}
		r.Body = io.NopCloser(bytes.NewReader(body)) // the provider reads it again
		form, _ := url.ParseQuery(string(body))
		rec.mu.Lock()
		rec.forms = append(rec.forms, form)
		rec.mu.Unlock()
		return false
	})
	return rec
}

func (rec *tokenRequests) last(t *testing.T) url.Values {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.forms) == 0 {
		t.Fatal("no token request was made")
	}
	return rec.forms[len(rec.forms)-1]
}

func mustPath(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// TestEachLoginIsFresh: every login makes its own state, nonce and PKCE
// verifier, unguessable (256 bits or more), and never repeats one; the
// verifier sent at the code exchange is the one whose S256 digest the
// authorization request carried (RFC 7636 §4.1-4.6); and none of them, nor
// the code or the tokens, reach stderr.
func TestEachLoginIsFresh(t *testing.T) {
	idp := testidp.New(t, testidp.Options{})
	tokens := recordTokenRequests(t, idp)
	seen := map[string]string{} // value → "login N's state", for repeats across kinds too
	const logins = 3
	for i := range logins {
		b := newRecordingBrowser(idp)
		var saved []*session.Tokens
		opts := options(t, idp, nil, &saved)
		opts.Browser = b
		stderr := &bytes.Buffer{}
		opts.Stderr = stderr
		toks, err := Run(context.Background(), opts)
		b.wait(t)
		if err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
		q, form := b.query(), tokens.last(t)
		values := map[string]string{
			"state": q.Get("state"), "nonce": q.Get("nonce"),
			"code_challenge": q.Get("code_challenge"), "code_verifier": form.Get("code_verifier"),
		}
		for kind, v := range values {
			// 43 base64url characters carry 256 bits (RFC 7636 §4.1).
			if len(v) < 43 || strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "" {
				t.Errorf("login %d: %s %q is not 43 or more unreserved characters", i, kind, v)
			}
			name := fmt.Sprintf("login %d's %s", i, kind)
			if prev, again := seen[v]; again {
				t.Errorf("%s repeats %s: %q", name, prev, v)
			}
			seen[v] = name
		}
		if m := q.Get("code_challenge_method"); m != "S256" {
			t.Errorf("login %d: code_challenge_method %q", i, m)
		}
		sum := sha256.Sum256([]byte(values["code_verifier"]))
		if got := base64.RawURLEncoding.EncodeToString(sum[:]); got != values["code_challenge"] {
			t.Errorf("login %d: the verifier sent at the exchange is not the one the challenge was made from (S256 %s, challenge %s)", i, got, values["code_challenge"])
		}
		if toks.Identity == nil || toks.Identity.Nonce != values["nonce"] {
			t.Errorf("login %d: the stored identity's nonce is not this login's", i)
		}
		secrets := map[string]string{"code": form.Get("code"), "access token": toks.AccessToken, "refresh token": toks.RefreshToken, "ID token": toks.IDToken}
		for kind, v := range values {
			secrets[kind] = v
		}
		for kind, v := range secrets {
			if v == "" {
				t.Errorf("login %d: no %s to look for", i, kind)
			} else if strings.Contains(stderr.String(), v) {
				t.Errorf("login %d: stderr shows the %s:\n%s", i, kind, stderr.String())
			}
		}
	}
}

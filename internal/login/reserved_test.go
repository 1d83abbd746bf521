package login

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/session"
)

// requestParams are the names of the parameters sesame itself puts in an
// authorization request that uses every feature (scopes, nonce,
// resources), read from the request it builds rather than listed by hand,
// so that a parameter added there and forgotten in config.IsReservedParam
// shows up here. prompt is left out: sesame only fills it in when the
// user gave none, and --param prompt=login is a documented use.
func requestParams(t *testing.T) []string {
	t.Helper()
	r := request{
		authURL: "https://idp.example/auth", clientID: "cli", redirectURI: "http://127.0.0.1:5000/callback",
		scopes: []string{"openid", "offline_access"}, resources: []string{"https://api.example"},
		state: "st", nonce: "no", verifier: oauth2.GenerateVerifier(),
	}
	raw, err := r.url()
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range u.Query() {
		if k != "prompt" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	// The ones sesame sends for security, at the least.
	for _, must := range []string{"response_type", "client_id", "redirect_uri", "state", "nonce", "code_challenge", "code_challenge_method", "scope", "resource"} {
		if !slices.Contains(names, must) {
			t.Fatalf("the authorization request has no %s: %v", must, names)
		}
	}
	return names
}

// TestEveryRequestParamIsReserved: no extra parameter may replace one that
// sesame sets, and the usual extra ones stay allowed.
func TestEveryRequestParamIsReserved(t *testing.T) {
	for _, k := range requestParams(t) {
		err := CheckParams(map[string]string{k: "x"})
		if err == nil || !strings.Contains(err.Error(), "--param "+k+" is not allowed") {
			t.Errorf("--param %s=x: %v", k, err)
		}
	}
	for _, k := range []string{"prompt", "login_hint", "max_age", "organization_id", "audience", "acr_values"} {
		if err := CheckParams(map[string]string{k: "x"}); err != nil {
			t.Errorf("--param %s=x refused: %v", k, err)
		}
	}
}

// neverOpened fails the test when a login gets as far as the browser.
type neverOpened struct {
	mu     sync.Mutex
	opened []string
}

func (b *neverOpened) Open(u string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.opened = append(b.opened, u)
	return nil
}

func (b *neverOpened) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.opened)
}

// TestRunRefusesEveryReservedParam: a login (browser or device) given any
// reserved name among its extra parameters (--param, or the profile's
// params) stops before it listens, opens the browser or sends anything.
// code_challenge_method=plain is the dangerous one: it would send the PKCE
// verifier's equivalent in the clear.
func TestRunRefusesEveryReservedParam(t *testing.T) {
	names := requestParams(t)
	for _, k := range names {
		for _, run := range []struct {
			name string
			f    func(context.Context, Options) (*session.Tokens, error)
		}{{"browser", Run}, {"device", Device}} {
			t.Run(k+"/"+run.name, func(t *testing.T) {
				b := &neverOpened{}
				var saved int
				o := Options{
					// Nothing listens at these: a login that got as far
					// as sending would fail on the network instead.
					Endpoints: provider.Endpoints{Auth: "https://idp.invalid/auth", Token: "https://idp.invalid/token", Device: "https://idp.invalid/device"},
					ClientID:  "cli", Scopes: []string{"profile"},
					Params:  map[string]string{k: "plain"},
					Timeout: 500 * time.Millisecond, Browser: b, Stderr: &bytes.Buffer{},
					HTTP: testHTTP, Now: time.Now,
					Save: func(*session.Tokens) error { saved++; return nil },
				}
				_, err := run.f(context.Background(), o)
				if err == nil || !strings.Contains(err.Error(), "--param "+k+" is not allowed") {
					t.Errorf("err %v", err)
				}
				var ge *grant.Error
				if errors.As(err, &ge) {
					t.Errorf("the login reached the provider: %v", err)
				}
				if b.count() != 0 || saved != 0 {
					t.Errorf("browser opened %d times, %d saves", b.count(), saved)
				}
			})
		}
	}
}

package login

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/testidp"
)

func options(t *testing.T, idp *testidp.IdP, b *testidp.Browser, saved *[]*session.Tokens) Options {
	t.Helper()
	ep, err := provider.Resolve(context.Background(), http.DefaultClient, provider.Endpoints{Issuer: idp.Issuer})
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		Endpoints: ep, ClientID: idp.ClientID(),
		Scopes:  []string{"openid", "profile", "email", "offline_access"},
		Timeout: 5 * time.Second, Browser: b, Stderr: &bytes.Buffer{}, HTTP: http.DefaultClient,
		Save: func(t *session.Tokens) error { *saved = append(*saved, t); return nil },
	}
}

func TestLoginApproved(t *testing.T) {
	for _, o := range []testidp.Options{
		{},
		{Path: "/oidc", Alg: "ES384", IssParameter: true, OfflineNeedsConsent: true},
		{Alg: "EdDSA"},
	} {
		t.Run(o.Path+o.Alg, func(t *testing.T) {
			idp := testidp.New(t, o)
			b := idp.Browser(testidp.Approve)
			var saved []*session.Tokens
			opts := options(t, idp, b, &saved)
			toks, err := Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			<-b.Done()
			if len(saved) != 1 || saved[0] != toks {
				t.Fatalf("saved %d token sets", len(saved))
			}
			if toks.Identity == nil || toks.Identity.Subject != testidp.Subject || toks.RefreshToken == "" || toks.IDToken == "" {
				t.Errorf("tokens %+v", toks)
			}
			status, page := b.LastPage()
			if status != 200 || !strings.Contains(page, "Signed in") || strings.Contains(page, toks.AccessToken) {
				t.Errorf("page %d %s", status, page)
			}
			// The browser and stderr get the start URL, never the
			// authorization request.
			stderr := opts.Stderr.(*bytes.Buffer).String()
			if !strings.HasPrefix(b.URL(), "http://127.0.0.1:") || !strings.Contains(stderr, "\n  "+b.URL()+"\n") {
				t.Errorf("browser opened at %q; stderr:\n%s", b.URL(), stderr)
			}
			for _, s := range []string{b.URL(), stderr} {
				if strings.Contains(s, "code_challenge") || strings.Contains(s, "state=") || strings.Contains(s, idp.Issuer) {
					t.Errorf("the authorization URL leaked: %s", s)
				}
			}
		})
	}
}

func TestLoginFailuresSaveNothing(t *testing.T) {
	tests := []struct {
		name    string
		action  testidp.Action
		timeout time.Duration
		want    string
	}{
		{"denied", testidp.Deny, 5 * time.Second, "access_denied"},
		{"wrong state", testidp.WrongState, 300 * time.Millisecond, "wrong state were refused"},
		{"bad code", testidp.BadCode, 5 * time.Second, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp := testidp.New(t, testidp.Options{})
			b := idp.Browser(tt.action)
			var saved []*session.Tokens
			opts := options(t, idp, b, &saved)
			opts.Timeout = tt.timeout
			_, err := Run(context.Background(), opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if len(saved) != 0 {
				t.Error("a failed login saved tokens")
			}
		})
	}
}

func TestLoginProviderErrors(t *testing.T) {
	idp := testidp.New(t, testidp.Options{})
	idp.FailNext(1, 502, "text/html", "<html>bad gateway</html>")
	b := idp.Browser(testidp.Approve)
	var saved []*session.Tokens
	_, err := Run(context.Background(), options(t, idp, b, &saved))
	if err == nil || !strings.Contains(err.Error(), "HTTP 502") || len(saved) != 0 {
		t.Fatalf("err %v, saved %d", err, len(saved))
	}
	<-b.Done()
	if status, page := b.LastPage(); status == 200 || !strings.Contains(page, "Sign-in failed") {
		t.Errorf("page %d %s", status, page)
	}
}

func TestSaveFailureShowsFailure(t *testing.T) {
	idp := testidp.New(t, testidp.Options{})
	b := idp.Browser(testidp.Approve)
	var saved []*session.Tokens
	opts := options(t, idp, b, &saved)
	opts.Save = func(*session.Tokens) error { return errors.New("keychain locked") }
	if _, err := Run(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "keychain locked") {
		t.Fatalf("err %v", err)
	}
	<-b.Done()
	if _, page := b.LastPage(); !strings.Contains(page, "Sign-in failed") {
		t.Errorf("page claims success: %s", page)
	}
}

func TestIDTokenFromAnotherIssuerRefused(t *testing.T) {
	idp := testidp.New(t, testidp.Options{})
	b := idp.Browser(testidp.Approve)
	var saved []*session.Tokens
	opts := options(t, idp, b, &saved)
	opts.Endpoints.Issuer += "/elsewhere" // ID token iss no longer matches
	if _, err := Run(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "ID token failed verification") || len(saved) != 0 {
		t.Fatalf("err %v", err)
	}
}

func TestNoBrowserPrintsURLAndWaits(t *testing.T) {
	idp := testidp.New(t, testidp.Options{})
	var saved []*session.Tokens
	opts := options(t, idp, nil, &saved)
	opts.NoBrowser = true
	opts.Timeout = 200 * time.Millisecond
	_, err := Run(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err %v", err)
	}
	stderr := opts.Stderr.(*bytes.Buffer).String()
	if !strings.Contains(stderr, "\n  http://127.0.0.1:") || strings.Contains(stderr, idp.Issuer) || strings.Contains(stderr, "code_challenge") {
		t.Errorf("the start URL is not what was printed:\n%s", stderr)
	}
}

// secondFetch opens the start URL a second time, as another program that
// read it would: before the user signs in, or while the code of a sign-in
// is being exchanged.
type secondFetch struct {
	idp            *testidp.IdP
	duringExchange bool
	done           chan struct{}
}

func (o *secondFetch) Open(startURL string) error {
	go func() {
		defer close(o.done)
		authURL, err := testidp.ResolveStart(startURL)
		if err != nil {
			return
		}
		if o.duringExchange {
			next, err := o.idp.Authorize(authURL, testidp.Approve)
			if err != nil {
				return
			}
			go func() {
				if resp, err := http.Get(next); err == nil {
					resp.Body.Close()
				}
			}()
			time.Sleep(100 * time.Millisecond) // the token response is delayed
		}
		if resp, err := http.Get(startURL); err == nil {
			resp.Body.Close()
		}
	}()
	return nil
}

func TestStartURLOpenedTwiceSavesNothing(t *testing.T) {
	for _, during := range []bool{false, true} {
		t.Run(map[bool]string{false: "before the callback", true: "during the exchange"}[during], func(t *testing.T) {
			idp := testidp.New(t, testidp.Options{})
			idp.Delay(300 * time.Millisecond)
			o := &secondFetch{idp: idp, duringExchange: during, done: make(chan struct{})}
			var saved []*session.Tokens
			opts := options(t, idp, nil, &saved)
			opts.Browser = o
			_, err := Run(context.Background(), opts)
			<-o.done
			if err == nil || !strings.Contains(err.Error(), "opened a second time") || len(saved) != 0 {
				t.Fatalf("err %v, saved %d", err, len(saved))
			}
			if exchanged := idp.Grants("authorization_code"); exchanged != map[bool]int{false: 0, true: 1}[during] {
				t.Errorf("%d code exchanges", exchanged)
			}
		})
	}
}

package login

import (
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/dpop"
	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/provider"
)

// A DPoP login binds the code to its key (RFC 9449 §10): the request
// carries the key's thumbprint, and only a proof made with that key
// redeems the code. A bearer login sends none.
func TestDPoPJKTInRequest(t *testing.T) {
	key, err := dpop.Generate(dpop.ES256)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key  *dpop.Key
		want string
	}{{key, key.Thumbprint()}, {nil, ""}} {
		req := newRequest(Options{Endpoints: provider.Endpoints{Auth: "https://idp.example/auth"}, ClientID: "cli", DPoP: tc.key})
		req.redirectURI = "http://127.0.0.1:1/callback"
		raw, err := req.url()
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(raw)
		if got := u.Query().Get("dpop_jkt"); got != tc.want {
			t.Errorf("dpop_jkt = %q, want %q", got, tc.want)
		}
		if got := req.values(url.Values{}).Get("dpop_jkt"); got != tc.want {
			t.Errorf("pushed request: dpop_jkt = %q, want %q", got, tc.want)
		}
	}
}

// In session mode the broker redeems the code as its confidential client,
// without the CLI's key: a code bound to the key (dpop_jkt) would be
// refused to it, so the request carries none, though the key is there to
// bind the broker's session.
func TestSessionModeSendsNoDPoPJKT(t *testing.T) {
	key, err := dpop.Generate(dpop.ES256)
	if err != nil {
		t.Fatal(err)
	}
	req := newRequest(Options{Endpoints: provider.Endpoints{Auth: "https://idp.example/auth"}, ClientID: "cli", DPoP: key,
		Session: &SessionMode{Provider: "main", TokenEndpoint: "https://broker.example/session/token"}})
	req.redirectURI = "http://127.0.0.1:1/callback"
	raw, err := req.url()
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	if u.Query().Has("dpop_jkt") || req.values(url.Values{}).Has("dpop_jkt") {
		t.Errorf("a session-mode request binds the code to the CLI's key: %s", raw)
	}
}

// The key follows the provider's preference, and a provider that accepts
// no algorithm sesame signs with fails before the browser opens.
func TestNewDPoPKey(t *testing.T) {
	for _, tc := range []struct {
		algs    []string
		want    string
		wantErr bool
	}{
		{nil, dpop.ES256, false},
		{[]string{"EdDSA", "ES256"}, dpop.EdDSA, false},
		{[]string{"ES256", "EdDSA"}, dpop.ES256, false},
		{[]string{"RS256", "\x1b[31mPS256"}, "", true},
	} {
		k, err := newDPoPKey(tc.algs)
		switch {
		case tc.wantErr && err == nil:
			t.Errorf("%v: no error", tc.algs)
		case tc.wantErr && containsControl(err.Error()):
			t.Errorf("%v: the provider's text reached the message raw: %q", tc.algs, err)
		case !tc.wantErr && (err != nil || k.Alg() != tc.want):
			t.Errorf("%v: %v %v, want %s", tc.algs, k, err, tc.want)
		}
	}
}

func containsControl(s string) bool {
	for _, r := range s {
		if r < 0x20 {
			return true
		}
	}
	return false
}

// The redirect hint is about the provider's own matching; a refusal
// sesame-broker makes in session mode is the broker's and gets none.
func TestExchangeHintOnlyForTheProvider(t *testing.T) {
	for server, want := range map[string]bool{"": true, "sesame-broker": false} {
		err := explainExchangeError(&grant.Error{Op: "exchange", Code: "invalid_grant", Description: "redirect_uri mismatch", Server: server}, server != "")
		if got := strings.Contains(err.Error(), "matches redirect URIs exactly"); got != want {
			t.Errorf("Server %q: hint %v, want %v (%v)", server, got, want, err)
		}
	}
}

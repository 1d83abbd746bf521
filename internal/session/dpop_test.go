package session

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/dpop"
	"github.com/sesame-cli/sesame/internal/provider"
)

// proofClaims decodes a proof's claims; dpop's own tests check signatures.
func proofClaims(t *testing.T, proof string) map[string]any {
	t.Helper()
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		t.Fatalf("not a proof: %q", proof)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	json.Unmarshal(raw, &c)
	return c
}

// A bound login refreshes with a proof of its own key, naming the
// provider's token endpoint also through a broker; userinfo presents the
// token with the DPoP scheme and a proof carrying its hash. A bearer
// answer to the refresh leaves the stored login as it was.
func TestDPoPSession(t *testing.T) {
	key, err := dpop.Generate(dpop.ES256)
	if err != nil {
		t.Fatal(err)
	}
	jwk, _ := key.MarshalJSON()
	var mu sync.Mutex
	var proofs []map[string]any
	var auths []string
	tokenType := "DPoP"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		proofs = append(proofs, proofClaims(t, r.Header.Get("DPoP")))
		auths = append(auths, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/broker/token":
			fmt.Fprintf(w, `{"access_token":"at-2","token_type":%q,"expires_in":3600,"refresh_token":"rt-2"}`, tokenType)
		case "/userinfo":
			fmt.Fprint(w, `{"sub":"alice"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	st := newMemStore()
	clock := newClock()
	s := &Session{Profile: "p", Store: st, HTTP: srv.Client(), Now: clock.Now, LockDir: t.TempDir(), TokenURL: srv.URL + "/broker/token"}
	ep := provider.Endpoints{Token: "https://idp.example/oauth2/token", Userinfo: srv.URL + "/userinfo"}
	login := &Tokens{ClientID: "cli", Endpoints: ep, AccessToken: "at-1", TokenType: "DPoP", RefreshToken: "rt-1",
		Expiry: clock.Now().Add(time.Minute), ObtainedAt: clock.Now().Add(-time.Hour), DPoPKey: jwk}
	if err := s.SaveLogin(context.Background(), login); err != nil {
		t.Fatal(err)
	}

	got, err := s.Fresh(context.Background(), 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != "at-2" || !got.Bound() {
		t.Fatalf("after the refresh: %+v", got)
	}
	if p := proofs[0]; p["htm"] != "POST" || p["htu"] != ep.Token {
		t.Fatalf("refresh proof %v, want POST %s", p, ep.Token)
	}
	if _, err := s.Userinfo(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p, a := proofs[1], auths[1]; a != "DPoP at-2" || p["htu"] != srv.URL+"/userinfo" || p["ath"] != dpop.ATH("at-2") {
		t.Fatalf("userinfo: Authorization %q, proof %v", a, p)
	}

	tokenType = "Bearer"
	before := st.snapshot()
	if _, err := s.Fresh(context.Background(), 0, true); err == nil || !strings.Contains(err.Error(), "not a DPoP-bound one") {
		t.Fatalf("a bearer answer: err %v", err)
	}
	if after := st.snapshot(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("the store changed after a refused refresh")
	}

	// A damaged key is a new login, not a bearer refresh.
	damaged := *login
	damaged.DPoPKey = []byte(`{"kty":"EC"}`)
	if err := s.SaveLogin(context.Background(), &damaged); err != nil {
		t.Fatal(err)
	}
	n := len(proofs)
	var lr *LoginRequiredError
	if _, err := s.Fresh(context.Background(), 0, true); err == nil || !asLoginRequired(err, &lr) {
		t.Fatalf("a damaged key: err %v, want a LoginRequiredError", err)
	}
	if len(proofs) != n {
		t.Fatalf("a request was sent without the key")
	}
}

func asLoginRequired(err error, lr **LoginRequiredError) bool {
	e, ok := err.(*LoginRequiredError)
	*lr = e
	return ok
}

package grant

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/dpop"
)

// proofClaims decodes a proof's claims (its signature is dpop's to test).
func proofClaims(t *testing.T, proof string) map[string]any {
	t.Helper()
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		t.Fatalf("proof %q is not a compact JWS", proof)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// dpopTokenEndpoint answers token requests with tokenType, recording the
// DPoP header of each; with nonce set, a request without that nonce gets
// use_dpop_nonce first (RFC 9449 §8).
type dpopTokenEndpoint struct {
	mu        sync.Mutex
	proofs    []string
	tokenType string
	nonce     string
}

func (d *dpopTokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	proof := r.Header.Get("DPoP")
	d.proofs = append(d.proofs, proof)
	d.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if d.nonce != "" {
		var c struct {
			Nonce string `json:"nonce"`
		}
		if parts := strings.Split(proof, "."); len(parts) == 3 {
			raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
			json.Unmarshal(raw, &c)
		}
		if c.Nonce != d.nonce {
			w.Header().Set("DPoP-Nonce", d.nonce)
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"use_dpop_nonce","error_description":"a nonce is required"}`)
			return
		}
	}
	fmt.Fprintf(w, `{"access_token":"at-1","token_type":%q,"expires_in":300,"refresh_token":"rt-2"}`, d.tokenType)
}

func TestDPoPTokenRequests(t *testing.T) {
	key, err := dpop.Generate("ES256")
	if err != nil {
		t.Fatal(err)
	}
	const providerToken = "https://idp.example/oauth/token?x=1"
	for _, tc := range []struct {
		name      string
		tokenType string
		nonce     string
		dpopURL   string
		wantErr   bool
		wantHTU   string
		requests  int
	}{
		{name: "bound token", tokenType: "DPoP", requests: 1},
		{name: "token type in another case", tokenType: "dpop", requests: 1},
		{name: "nonce challenge answered once", tokenType: "DPoP", nonce: "n-1", requests: 2},
		{name: "bearer answer refused", tokenType: "Bearer", wantErr: true, requests: 1},
		{name: "no token type refused", tokenType: "", wantErr: true, requests: 1},
		{name: "through a broker the proof names the provider", tokenType: "DPoP", dpopURL: providerToken,
			wantHTU: "https://idp.example/oauth/token", requests: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := &dpopTokenEndpoint{tokenType: tc.tokenType, nonce: tc.nonce}
			srv := httptest.NewServer(ep)
			defer srv.Close()
			c := Client{ClientID: "cli", TokenURL: srv.URL + "/token", HTTP: srv.Client(), Now: time.Now, DPoP: key, DPoPURL: tc.dpopURL}
			got, err := c.Refresh(context.Background(), "rt-1", nil)
			var nb *NotBoundError
			switch {
			case tc.wantErr && !errors.As(err, &nb):
				t.Fatalf("err = %v, want a NotBoundError", err)
			case tc.wantErr && strings.Contains(err.Error(), "at-1"):
				t.Fatalf("the error shows the token: %v", err)
			case !tc.wantErr && err != nil:
				t.Fatal(err)
			case !tc.wantErr && got.AccessToken != "at-1":
				t.Fatalf("got %+v", got)
			}
			if len(ep.proofs) != tc.requests {
				t.Fatalf("%d requests, want %d", len(ep.proofs), tc.requests)
			}
			want := tc.wantHTU
			if want == "" {
				want = srv.URL + "/token"
			}
			for i, p := range ep.proofs {
				if p == "" {
					t.Fatalf("request %d carried no DPoP proof", i)
				}
				c := proofClaims(t, p)
				if c["htm"] != "POST" || c["htu"] != want {
					t.Errorf("request %d: htm %v htu %v, want POST %s", i, c["htm"], c["htu"], want)
				}
				if _, ok := c["ath"]; ok {
					t.Errorf("request %d: a token request proof carries ath", i)
				}
			}
			if tc.nonce != "" && proofClaims(t, ep.proofs[1])["nonce"] != tc.nonce {
				t.Errorf("the retry did not carry the nonce")
			}
		})
	}
}

// Without a key nothing changes: no proof, and a bearer answer is fine.
func TestNoDPoPWithoutKey(t *testing.T) {
	ep := &dpopTokenEndpoint{tokenType: "Bearer"}
	srv := httptest.NewServer(ep)
	defer srv.Close()
	c := Client{ClientID: "cli", TokenURL: srv.URL + "/token", HTTP: srv.Client(), Now: time.Now}
	if _, err := c.Refresh(context.Background(), "rt-1", nil); err != nil {
		t.Fatal(err)
	}
	if ep.proofs[0] != "" {
		t.Fatalf("a proof was sent without a key")
	}
}

// In session mode the broker is the authority: its refusals are named as
// its own, not the provider's.
func TestServerNamedInErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"the session was revoked"}`)
	}))
	defer srv.Close()
	for server, want := range map[string]string{"": "the provider answered invalid_grant", "sesame-broker": "sesame-broker answered invalid_grant"} {
		c := Client{ClientID: "cli", TokenURL: srv.URL, HTTP: srv.Client(), Server: server}
		_, err := c.Refresh(context.Background(), "rt", nil)
		if err == nil || !strings.Contains(err.Error(), want) || !IsInvalidGrant(err) {
			t.Errorf("Server %q: %v, want %q", server, err, want)
		}
	}
}

package grant

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func endpoint(t *testing.T, status int, ctype, body string, seen *url.Values) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if seen != nil {
			*seen, _ = url.ParseQuery(string(b))
			if r.Header.Get("Authorization") != "" {
				seen.Set("has_authorization_header", "yes")
			}
		}
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestExchangeSendsPublicClientRequest(t *testing.T) {
	var seen url.Values
	u := endpoint(t, 200, "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":"3600","refresh_token":"rt","id_token":"idt","scope":"openid"}`, &seen)
	tok, err := Client{ClientID: "cli", TokenURL: u}.Exchange(context.Background(), "the-code", "the-verifier", "http://127.0.0.1:1/callback", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "at" || tok.RefreshToken != "rt" || tok.IDToken != "idt" || tok.Scope != "openid" || time.Until(tok.Expiry) < 59*time.Minute {
		t.Errorf("%+v", tok)
	}
	want := url.Values{"grant_type": {"authorization_code"}, "code": {"the-code"}, "code_verifier": {"the-verifier"}, "client_id": {"cli"}, "redirect_uri": {"http://127.0.0.1:1/callback"}}
	for k := range want {
		if seen.Get(k) != want.Get(k) {
			t.Errorf("%s = %q, want %q", k, seen.Get(k), want.Get(k))
		}
	}
	if seen.Has("client_secret") || seen.Has("has_authorization_header") {
		t.Error("a public client sent credentials")
	}
}

func TestRefreshKeepsRefreshTokenWhenNoneReturned(t *testing.T) {
	var seen url.Values
	u := endpoint(t, 200, "application/json", `{"access_token":"at2","token_type":"Bearer"}`, &seen)
	tok, err := Client{ClientID: "cli", TokenURL: u}.Refresh(context.Background(), "rt1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "rt1" || tok.AccessToken != "at2" || seen.Get("grant_type") != "refresh_token" || seen.Get("refresh_token") != "rt1" {
		t.Errorf("%+v %v", tok, seen)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, ctype, body string
		status            int
		want              string
		invalidGrant      bool
	}{
		{"oauth error", "application/json", `{"error":"invalid_grant","error_description":"grant request is invalid"}`, 400, "invalid_grant (grant request is invalid)", true},
		{"error with 200", "application/json", `{"error":"invalid_grant"}`, 200, "invalid_grant", true},
		{"html 500", "text/html", `<html>oops secret-echo</html>`, 500, "HTTP 500 (text/html) without an OAuth error", false},
		{"empty 400", "", ``, 400, "HTTP 400", false},
		{"truncated json", "application/json", `{"access_token":"at`, 200, "unusable response", false},
		{"missing access token", "application/json", `{"token_type":"Bearer"}`, 200, "missing access_token", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := endpoint(t, tt.status, tt.ctype, tt.body, nil)
			_, err := Client{ClientID: "cli", TokenURL: u}.Refresh(context.Background(), "rt", nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret-echo") {
				t.Error("error repeats the response body")
			}
			if IsInvalidGrant(err) != tt.invalidGrant {
				t.Errorf("IsInvalidGrant = %v", !tt.invalidGrant)
			}
		})
	}
}

func TestUnreachableAndSlow(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	dead := srv.URL
	srv.Close()
	_, err := Client{ClientID: "cli", TokenURL: dead}.Refresh(context.Background(), "rt", nil)
	if err == nil || !strings.Contains(err.Error(), "could not reach the token endpoint") {
		t.Errorf("dead endpoint: %v", err)
	}
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer slow.Close()
	defer close(block)
	c := Client{ClientID: "cli", TokenURL: slow.URL, HTTP: &http.Client{Timeout: 100 * time.Millisecond}}
	if _, err := c.Refresh(context.Background(), "rt", nil); err == nil || !strings.Contains(err.Error(), "refresh the tokens") {
		t.Errorf("slow endpoint: %v", err)
	}
}

func TestRefreshWithExtraParams(t *testing.T) {
	var seen url.Values
	u := endpoint(t, 200, "application/json", `{"access_token":"org-at","token_type":"Bearer","refresh_token":"rt2"}`, &seen)
	extra := url.Values{"organization_id": {"acme"}, "resource": {"https://a", "https://b"}}
	tok, err := Client{ClientID: "cli", TokenURL: u}.Refresh(context.Background(), "rt1", extra)
	if err != nil || tok.RefreshToken != "rt2" {
		t.Fatal(tok, err)
	}
	if seen.Get("organization_id") != "acme" || len(seen["resource"]) != 2 || seen.Get("refresh_token") != "rt1" || seen.Get("grant_type") != "refresh_token" {
		t.Errorf("sent %v", seen)
	}
}

func TestRevoke(t *testing.T) {
	var seen url.Values
	u := endpoint(t, 200, "", "", &seen)
	if err := (Client{ClientID: "cli"}).Revoke(context.Background(), u, "the-rt", "refresh_token"); err != nil {
		t.Fatal(err)
	}
	if seen.Get("token") != "the-rt" || seen.Get("token_type_hint") != "refresh_token" || seen.Get("client_id") != "cli" {
		t.Errorf("sent %v", seen)
	}
	u = endpoint(t, 400, "application/json", `{"error":"unsupported_token_type"}`, nil)
	if err := (Client{ClientID: "cli"}).Revoke(context.Background(), u, "x", "access_token"); err == nil || !strings.Contains(err.Error(), "unsupported_token_type") {
		t.Errorf("err %v", err)
	}
	u = endpoint(t, 503, "text/html", "<html>", nil)
	if err := (Client{ClientID: "cli"}).Revoke(context.Background(), u, "x", "access_token"); err == nil || !strings.Contains(err.Error(), "HTTP 503") {
		t.Errorf("err %v", err)
	}
}

func TestIntrospect(t *testing.T) {
	var seen url.Values
	u := endpoint(t, 200, "application/json", `{"active":true,"sub":"alice","exp":1900000000}`, &seen)
	out, err := (Client{ClientID: "cli"}).Introspect(context.Background(), u, "tok", "access_token")
	if err != nil || out["active"] != true || out["sub"] != "alice" || seen.Get("token") != "tok" || seen.Get("client_id") != "cli" {
		t.Fatalf("%v %v %v", out, err, seen)
	}
	for _, tt := range []struct {
		status      int
		ctype, body string
		want        string
	}{
		{401, "application/json", `{"error":"invalid_client"}`, "invalid_client"},
		{500, "text/html", "<html>", "HTTP 500"},
		{200, "application/json", `{"sub":"x"}`, "no boolean"},
		{200, "text/plain", `nope`, "not JSON"},
	} {
		u := endpoint(t, tt.status, tt.ctype, tt.body, nil)
		if _, err := (Client{ClientID: "cli"}).Introspect(context.Background(), u, "tok", ""); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%d %s: %v", tt.status, tt.body, err)
		}
	}
}

package httpx

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// A request that got no answer names the URL once, the cause in plain
// words, and a hint: the network (VPN, proxy) and doctor, or the scheme
// when the server speaks the other one.
func TestUnreachable(t *testing.T) {
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + l.Addr().String()
	l.Close()

	get := func(u string) error {
		_, err := GetDocument(context.Background(), tlsSrv.Client(), u, nil)
		return err
	}
	tests := []struct {
		name, url string
		err       error
		want      string
		hint      string
	}{
		{"refused", dead + "/.well-known/openid-configuration", nil,
			"could not reach " + dead + "/.well-known/openid-configuration: connection refused (nothing listens on " + strings.TrimPrefix(dead, "http://") + ")",
			"`sesame doctor --issuer " + dead + "`"},
		{"plain HTTP on https", "https://" + strings.TrimPrefix(plain.URL, "http://") + "/x", nil,
			"speaks plain HTTP, not HTTPS", "use http:// only for a provider on this machine"},
		{"no such host", "https://idp.example/jwks", &url.Error{Op: "Get", URL: "https://idp.example/jwks?secret=1", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "idp.example", IsNotFound: true}}},
			"could not reach https://idp.example/jwks: the host name idp.example does not resolve", "VPN"},
	}
	for _, tt := range tests {
		err := tt.err
		if err == nil {
			err = get(tt.url)
		}
		ur := Unreachable(err, "")
		if ur == nil {
			t.Errorf("%s: %v is not unreachable", tt.name, err)
			continue
		}
		if !strings.Contains(ur.Error(), tt.want) || strings.Count(ur.Error(), "://") != 1 || !strings.Contains(ur.Hint(), tt.hint) {
			t.Errorf("%s:\n%s\n%s", tt.name, ur.Error(), ur.Hint())
		}
		if !errors.Is(ur, ur.Err) {
			t.Errorf("%s: does not unwrap", tt.name)
		}
	}
	if ur := Unreachable(errors.New("x"), ""); ur != nil {
		t.Errorf("a plain error: %v", ur)
	}
	// A certificate that does not verify is an answer, not this error.
	if _, err := GetDocument(context.Background(), http.DefaultClient, tlsSrv.URL, nil); Unreachable(err, "") != nil {
		t.Errorf("an untrusted certificate counts as unreachable: %v", err)
	}
	if ur := Unreachable(&url.Error{Op: "Post", URL: "https://idp.example/token", Err: &net.OpError{Op: "dial", Err: errors.New("boom")}}, "the token endpoint"); ur == nil ||
		ur.Error() != "could not reach the token endpoint https://idp.example/token: boom" {
		t.Errorf("named endpoint: %v", ur)
	}
}

// An HTTPS server asked in plain HTTP answers 400 and says so.
func TestHTTPSOnly(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	u := "http://" + strings.TrimPrefix(srv.URL, "https://") + "/.well-known/openid-configuration"
	resp, err := GetDocument(context.Background(), http.DefaultClient, u, nil)
	if err != nil || !HTTPSOnly(resp.Status, resp.Body) {
		t.Fatalf("%v %+v", err, resp)
	}
	e := WrongScheme(u, "https")
	if !strings.Contains(e.Error(), "speaks HTTPS, not plain HTTP") || e.Hint() != "Use "+SchemeSwapped(u)+" instead." || !strings.HasPrefix(SchemeSwapped(u), "https://") {
		t.Errorf("%s / %s", e, e.Hint())
	}
}

package broker

import "testing"

func TestRedirectPatterns(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		reject  []string
	}{
		{"http://127.0.0.1:*/*",
			[]string{"http://127.0.0.1:53682/callback", "http://127.0.0.1:1/", "http://127.0.0.1:65535", "HTTP://127.0.0.1:8080/a/b"},
			[]string{"http://127.0.0.1/callback", "http://127.0.0.1:0/", "http://127.0.0.1:65536/", "http://127.0.0.1:08080/",
				"http://localhost:8080/", "https://127.0.0.1:8080/", "http://127.0.0.1.evil.example:8080/",
				"http://user@127.0.0.1:8080/", "http://127.0.0.1:8080/cb?x=1", "http://127.0.0.1:8080/cb#f",
				"http://127.0.0.1:8080/a/../b", "http://127.0.0.1:8080/%2e%2e/b", "http://[::1]:8080/", "//127.0.0.1:80/", "not a url"}},
		{"http://[::1]:*/*",
			[]string{"http://[::1]:8080/callback", "http://[0:0:0:0:0:0:0:1]:8080/x"},
			[]string{"http://127.0.0.1:8080/", "http://[::2]:8080/"}},
		{"http://127.0.0.1:*/callback",
			[]string{"http://127.0.0.1:8080/callback"},
			[]string{"http://127.0.0.1:8080/callback/", "http://127.0.0.1:8080/callbackx", "http://127.0.0.1:8080/Callback"}},
		{"https://app.example.com/oauth/*",
			[]string{"https://app.example.com/oauth/done", "https://APP.example.com/oauth/"},
			[]string{"https://app.example.com/oauth", "https://app.example.com:8443/oauth/x", "https://app.example.com/other"}},
		{"http://localhost:8080/cb",
			[]string{"http://localhost:8080/cb"},
			[]string{"http://localhost:8081/cb", "http://localhost/cb"}},
	}
	for _, tt := range tests {
		p, err := parseRedirectPattern(tt.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		for _, u := range tt.match {
			if !p.match(u) {
				t.Errorf("%s does not match %s", tt.pattern, u)
			}
		}
		for _, u := range tt.reject {
			if p.match(u) {
				t.Errorf("%s matches %s", tt.pattern, u)
			}
		}
	}
}

func TestBadRedirectPatterns(t *testing.T) {
	for _, p := range []string{
		"127.0.0.1:*/*", "http://*:80/", "https://*.example.com/", "http://127.0.0.1:8*/", "https://a.example/*/x",
		"http://app.example.com/cb", "ftp://127.0.0.1/", "com.example.app:/cb", "https://a.example/cb?x=1",
		"https://a.example/cb#x", "https://user@a.example/", "http://:80/",
	} {
		if _, err := parseRedirectPattern(p); err == nil {
			t.Errorf("pattern %q accepted", p)
		}
	}
}

func TestValidVerifier(t *testing.T) {
	ok := []string{
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", // RFC 7636 appendix B
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ-._~0123456789",
	}
	bad := []string{"", "short", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX", "dBjftJeZ4CVP+mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
		"dBjftJeZ4CVP mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXké"}
	for _, v := range ok {
		if !validVerifier(v) {
			t.Errorf("%q refused", v)
		}
	}
	for _, v := range bad {
		if validVerifier(v) {
			t.Errorf("%q accepted", v)
		}
	}
	if !validVerifier(string(make129(128))) || validVerifier(string(make129(129))) {
		t.Error("length bounds are not 43..128")
	}
}

func make129(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return b
}

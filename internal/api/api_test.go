package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// hit is one request a test server got.
type hit struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
	ContentLength       int64
}

// recorder keeps the requests a test server got, for the test to check.
type recorder struct {
	mu   sync.Mutex
	hits []hit
}

func (rec *recorder) record(r *http.Request) hit {
	b, _ := io.ReadAll(r.Body)
	h := hit{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(b), ContentLength: r.ContentLength}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.hits = append(rec.hits, h)
	return h
}

func (rec *recorder) all() []hit {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]hit(nil), rec.hits...)
}

// server records every request and answers with h.
func server(t *testing.T, h func(w http.ResponseWriter, r *http.Request, got hit)) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := rec.record(r)
		if h != nil {
			h(w, r, got)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, rec
}

// tokens is a TokenSource that counts its calls: the nth token is "tok-n".
type tokens struct {
	calls []bool // the renew argument of each call
	typ   string
	err   error
	value string // when set, every token is this
}

func (ts *tokens) source(_ context.Context, renew bool) (Token, error) {
	ts.calls = append(ts.calls, renew)
	if ts.err != nil {
		return Token{}, ts.err
	}
	v := fmt.Sprintf("tok-%d", len(ts.calls))
	if ts.value != "" {
		v = ts.value
	}
	return Token{Value: v, Type: ts.typ}, nil
}

// result is what one Run wrote and returned.
type result struct {
	stdout, stderr string
	err            error
}

// run calls Run with buffers for the streams, ts for the token (a fresh
// one when nil) and a client with a timeout.
func run(t *testing.T, o Options, ts *tokens) result {
	t.Helper()
	if ts == nil {
		ts = &tokens{}
	}
	var stdout, stderr bytes.Buffer
	o.Stdout, o.Stderr, o.Token = &stdout, &stderr, ts.source
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	err := Run(context.Background(), o)
	return result{stdout.String(), stderr.String(), err}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRequests covers what the request carries: method, headers, body
// and its Content-Type, for each way of giving a body.
func TestRequests(t *testing.T) {
	srv, rec := server(t, func(w http.ResponseWriter, r *http.Request, _ hit) { io.WriteString(w, "ok") })
	file := writeFile(t, `{"from":"file"}`)
	field := writeFile(t, "field text")
	tests := []struct {
		name     string
		o        Options
		typ      string // token type
		want     hit    // Method, Path, Query, Body; Header: only the names given are checked
		noHeader []string
	}{
		{name: "GET by default", o: Options{Target: "/users"},
			want: hit{Method: "GET", Path: "/users", Header: http.Header{"Authorization": {"Bearer tok-1"}, "Accept": {defaultAccept}}}, noHeader: []string{"Content-Type"}},
		{name: "-X overrides, any case", o: Options{Target: "/users/1", Method: "delete"},
			want: hit{Method: "DELETE", Path: "/users/1"}},
		{name: "-d string makes a POST of JSON", o: Options{Target: "/users", Data: `{"a":1}`},
			want: hit{Method: "POST", Path: "/users", Body: `{"a":1}`, ContentLength: 7, Header: http.Header{"Content-Type": {"application/json"}}}},
		{name: "-d with -X PUT", o: Options{Target: "/users", Data: "x", Method: "PUT"},
			want: hit{Method: "PUT", Path: "/users", Body: "x"}},
		{name: "-H Content-Type wins", o: Options{Target: "/u", Data: "plain", Headers: []string{"Content-Type: text/plain"}},
			want: hit{Method: "POST", Path: "/u", Body: "plain", Header: http.Header{"Content-Type": {"text/plain"}}}},
		{name: "--form labels -d", o: Options{Target: "/u", Data: "a=1", Form: true},
			want: hit{Method: "POST", Path: "/u", Body: "a=1", Header: http.Header{"Content-Type": {formType}}}},
		{name: "-d @file", o: Options{Target: "/u", Data: "@" + file},
			want: hit{Method: "POST", Path: "/u", Body: `{"from":"file"}`, ContentLength: 15}},
		{name: "-d @- sends stdin, kept to be sent again", o: Options{Target: "/u", Data: "@-", Stdin: strings.NewReader("from stdin")},
			want: hit{Method: "POST", Path: "/u", Body: "from stdin", ContentLength: 10}},
		{name: "-F makes a JSON object with JSON types", o: Options{Target: "/u", Fields: []string{
			"n=1", "f=-1.5e3", "t=true", "no=false", "nil=null", "s=text", "zip=007", "empty=", "file=@" + field, "html=<&>"}},
			want: hit{Method: "POST", Path: "/u", Header: http.Header{"Content-Type": {"application/json"}},
				Body: `{"empty":"","f":-1.5e3,"file":"field text","html":"<&>","n":1,"nil":null,"no":false,"s":"text","t":true,"zip":"007"}`}},
		{name: "-F @- reads stdin", o: Options{Target: "/u", Fields: []string{"in=@-"}, Stdin: strings.NewReader("piped")},
			want: hit{Method: "POST", Path: "/u", Body: `{"in":"piped"}`}},
		{name: "--form -F", o: Options{Target: "/u", Form: true, Fields: []string{"b=two words", "a=1", "c=@" + field}},
			want: hit{Method: "POST", Path: "/u", Body: "a=1&b=two+words&c=field+text", Header: http.Header{"Content-Type": {formType}}}},
		{name: "-F with -X GET is the query", o: Options{Target: "/search?sort=asc", Method: "GET", Fields: []string{"q=a b", "n=2"}},
			want: hit{Method: "GET", Path: "/search", Query: "sort=asc&n=2&q=a+b"}, noHeader: []string{"Content-Type"}},
		{name: "-H lines add, Accept replaced", o: Options{Target: "/u", Headers: []string{"X-One: 1", "x-one:2", "Accept: text/csv", "X-Empty:"}},
			want: hit{Method: "GET", Path: "/u", Header: http.Header{"X-One": {"1", "2"}, "Accept": {"text/csv"}, "X-Empty": {""}}}},
		{name: "a DPoP token", o: Options{Target: "/u"}, typ: "dpop",
			want: hit{Method: "GET", Path: "/u", Header: http.Header{"Authorization": {"DPoP tok-1"}}}},
		{name: "a bearer token of any case", o: Options{Target: "/u"}, typ: "BEARER",
			want: hit{Method: "GET", Path: "/u", Header: http.Header{"Authorization": {"Bearer tok-1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.mu.Lock()
			rec.hits = nil
			rec.mu.Unlock()
			tt.o.BaseURL = srv.URL
			res := run(t, tt.o, &tokens{typ: tt.typ})
			if res.err != nil || res.stdout != "ok" || res.stderr != "" {
				t.Fatalf("got %+v", res)
			}
			hits := rec.all()
			if len(hits) != 1 {
				t.Fatalf("%d requests", len(hits))
			}
			got := hits[0]
			if got.Method != tt.want.Method || got.Path != tt.want.Path || got.Query != tt.want.Query || got.Body != tt.want.Body {
				t.Errorf("got %s %s?%s %q, want %s %s?%s %q", got.Method, got.Path, got.Query, got.Body, tt.want.Method, tt.want.Path, tt.want.Query, tt.want.Body)
			}
			if tt.want.ContentLength != 0 && got.ContentLength != tt.want.ContentLength {
				t.Errorf("Content-Length %d, want %d", got.ContentLength, tt.want.ContentLength)
			}
			for name, want := range tt.want.Header {
				if g := got.Header.Values(name); strings.Join(g, "|") != strings.Join(want, "|") {
					t.Errorf("%s: %q, want %q", name, g, want)
				}
			}
			for _, name := range tt.noHeader {
				if v, ok := got.Header[name]; ok {
					t.Errorf("%s: %q, want none", name, v)
				}
			}
		})
	}
}

// TestRefusedBeforeToken: Options that cannot make a safe request fail
// before the token source is asked, and nothing is sent.
func TestRefusedBeforeToken(t *testing.T) {
	srv, rec := server(t, nil)
	tests := []struct {
		name  string
		o     Options
		usage bool   // a *UsageError
		msg   string // in the error
	}{
		{"http to a host that is not loopback", Options{Target: "http://api.example/users"}, true, "must use https"},
		{"another scheme", Options{Target: "ftp://api.example/users"}, true, "not an absolute http(s) URL"},
		{"an api_url over http", Options{Target: "users", BaseURL: "http://api.example/"}, false, "api_url"},
		{"no api_url for a path", Options{Target: "users"}, false, "no api_url"},
		{"no target", Options{BaseURL: srv.URL}, true, "give a URL"},
		{"-H Authorization", Options{Target: srv.URL, Headers: []string{"authorization: Bearer x"}}, true, "sends the profile's token"},
		{"-H DPoP", Options{Target: srv.URL, Headers: []string{"DPoP: x"}}, true, "sends the profile's token"},
		{"-H Host", Options{Target: srv.URL, Headers: []string{"Host: other.example"}}, true, "the URL sets the host"},
		{"-H without a colon", Options{Target: srv.URL, Headers: []string{"X-Thing"}}, true, `"Name: value"`},
		{"-H with a space in the name", Options{Target: srv.URL, Headers: []string{"X Thing: 1"}}, true, `"Name: value"`},
		{"-H with a control character", Options{Target: srv.URL, Headers: []string{"X-A: 1\r\nX-B: 2"}}, true, "control characters"},
		{"-X that is not a method", Options{Target: srv.URL, Method: "GET /x"}, true, "not an HTTP method"},
		{"-d and -F", Options{Target: srv.URL, Data: "x", Fields: []string{"a=1"}}, true, "not both"},
		{"-F without =", Options{Target: srv.URL, Fields: []string{"a"}}, true, "key=value"},
		{"-F key twice", Options{Target: srv.URL, Fields: []string{"a=1", "a=2"}}, true, "given twice"},
		{"-F @- twice", Options{Target: srv.URL, Fields: []string{"a=@-", "b=@-"}, Stdin: strings.NewReader("x")}, true, "read once"},
		{"-d @ a missing file", Options{Target: srv.URL, Data: "@/nonexistent/body"}, false, "could not read the request body"},
		{"-d @- without stdin", Options{Target: srv.URL, Data: "@-"}, true, "no standard input"},
		{"--jq that does not compile", Options{Target: srv.URL, JQ: ".[ | x"}, true, "--jq"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := &tokens{}
			res := run(t, tt.o, ts)
			var ue *UsageError
			if res.err == nil || !strings.Contains(res.err.Error(), tt.msg) || errors.As(res.err, &ue) != tt.usage {
				t.Errorf("err %v, want one with %q (usage %v)", res.err, tt.msg, tt.usage)
			}
			if len(ts.calls) != 0 || len(rec.all()) != 0 {
				t.Errorf("%d token call(s), %d request(s)", len(ts.calls), len(rec.all()))
			}
		})
	}
}

func TestTarget(t *testing.T) {
	tests := []struct{ target, base, want string }{
		{"users", "https://api.example/v1/", "https://api.example/v1/users"},
		{"users", "https://api.example/v1", "https://api.example/v1/users"},
		{"/users", "https://api.example/v1/", "https://api.example/v1/users"},
		{"//evil.example/x", "https://api.example/v1", "https://api.example/v1/evil.example/x"},
		{"users?page=2", "https://api.example", "https://api.example/users?page=2"},
		{"things:batchGet", "https://api.example/v1", "https://api.example/v1/things:batchGet"},
		{"search?q=https://x", "https://api.example", "https://api.example/search?q=https://x"},
		{"https://other.example/x", "https://api.example/v1", "https://other.example/x"},
		{"HTTP://127.0.0.1:8080/x", "", "http://127.0.0.1:8080/x"},
		{"http://localhost/x", "", "http://localhost/x"},
		{"http://[::1]:9/x", "", "http://[::1]:9/x"},
	}
	for _, tt := range tests {
		u, err := target(tt.target, tt.base)
		if err != nil || u.String() != tt.want {
			t.Errorf("target(%q, %q) = %v, %v; want %s", tt.target, tt.base, u, err, tt.want)
		}
	}
	_, err := target("users", "")
	var nb *NoBaseError
	if !errors.As(err, &nb) || !strings.Contains(nb.Hint(), "api_url") {
		t.Errorf("no base: %v", err)
	}
	for _, bad := range []string{"http://10.0.0.1/x", "http://api.example.localhost.evil/x", "https://api.example/x#frag", "file:///etc/passwd"} {
		if _, err := target(bad, ""); err == nil {
			t.Errorf("target(%q) was accepted", bad)
		}
	}
	if _, err := target("users", "https://api.example/v1?x=1"); err == nil {
		t.Error("an api_url with a query was accepted")
	}
}

// TestTokenSourceErrors: the source's error reaches the caller unchanged
// (a login-required error keeps its exit code), and nothing is sent.
func TestTokenSourceErrors(t *testing.T) {
	srv, rec := server(t, nil)
	sentinel := errors.New("login required")
	res := run(t, Options{Target: srv.URL}, &tokens{err: sentinel})
	if res.err != sentinel || len(rec.all()) != 0 {
		t.Errorf("err %v, %d request(s)", res.err, len(rec.all()))
	}
	for _, tok := range []*tokens{{typ: "MAC"}, {value: "a\nb"}, {value: "two words"}} {
		res := run(t, Options{Target: srv.URL}, tok)
		if res.err == nil || len(rec.all()) != 0 || tok.value != "" && strings.Contains(res.err.Error(), tok.value) {
			t.Errorf("token %+v: err %v, %d request(s)", tok, res.err, len(rec.all()))
		}
	}
}

func newTLSServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestUnreachable: no answer at all is said plainly, naming the URL.
func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	res := run(t, Options{Target: srv.URL + "/x?secret=1"}, nil)
	if res.err == nil || !strings.HasPrefix(res.err.Error(), "could not reach the API "+srv.URL+"/x: connection refused") {
		t.Errorf("err %v", res.err)
	}
}

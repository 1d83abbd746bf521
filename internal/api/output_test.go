package api

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestStatus: a status other than 2xx prints its body on stdout, its
// status line on stderr, and returns a *StatusError.
func TestStatus(t *testing.T) {
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, _ hit) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"Not Found"}`)
	})
	res := run(t, Options{Target: srv.URL + "/nope"}, nil)
	var se *StatusError
	if !errors.As(res.err, &se) || se.Status != 404 || se.Error() != "HTTP 404 Not Found" {
		t.Errorf("err %#v", res.err)
	}
	if res.stdout != `{"message":"Not Found"}` || res.stderr != "HTTP 404 Not Found\n" {
		t.Errorf("stdout %q, stderr %q", res.stdout, res.stderr)
	}
}

func TestIncludeAndSilent(t *testing.T) {
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, _ hit) {
		w.Header()["Date"] = nil
		w.Header().Add("X-Multi", "b")
		w.Header().Add("X-Multi", "a")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":1}`)
	})
	head := "HTTP/1.1 201 Created\nContent-Length: 8\nContent-Type: application/json\nX-Multi: b\nX-Multi: a\n\n"
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"include", Options{Include: true}, head + `{"id":1}`},
		{"include with --jq", Options{Include: true, JQ: ".id"}, head + "1\n"},
		{"silent", Options{Silent: true}, ""},
		{"silent with include", Options{Silent: true, Include: true}, head},
	}
	for _, tt := range tests {
		tt.o.Target = srv.URL
		res := run(t, tt.o, nil)
		if res.err != nil || res.stdout != tt.want || res.stderr != "" {
			t.Errorf("%s: got %+v, want stdout %q", tt.name, res, tt.want)
		}
	}
}

// rawServer answers every request with resp, byte for byte, so a test
// can send what net/http's server would not.
func rawServer(t *testing.T, resp string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		buf.WriteString(resp)
		buf.Flush()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestTerminal: what the server sent cannot drive a terminal, while a
// script gets the bytes as sent.
func TestTerminal(t *testing.T) {
	body := "hello\x1b]52;c;cGF5bG9hZA==\x07 \x1b[2J\u202eworld\n"
	u := rawServer(t, "HTTP/1.1 418 Teapot\x1b]0;title\x07\u202e\r\n"+
		"X-Evil: a\u202eb\u2028c\td\r\nContent-Length: "+fmt.Sprint(len(body))+"\r\nConnection: close\r\n\r\n"+body)
	bad := []string{"\x1b", "\x07", "\u202e", "\u2028"}

	tty := run(t, Options{Target: u, Include: true, StdoutTTY: true}, nil)
	for _, s := range bad {
		if strings.Contains(tty.stdout, s) || strings.Contains(tty.stderr, s) || strings.Contains(tty.err.Error(), s) {
			t.Errorf("%q reached the terminal: stdout %q, stderr %q, err %q", s, tty.stdout, tty.stderr, tty.err)
		}
	}
	if !strings.Contains(tty.stdout, `X-Evil: a\u202eb\u2028c\td`+"\n") || !strings.Contains(tty.stdout, `hello\x1b]52;c;`) ||
		tty.stderr != `HTTP 418 Teapot\x1b]0;title\x07\u202e`+"\n" {
		t.Errorf("stdout %q, stderr %q", tty.stdout, tty.stderr)
	}

	script := run(t, Options{Target: u}, nil)
	if script.stdout != body || strings.Contains(script.stderr, "\x1b") {
		t.Errorf("a script got %q (stderr %q), want the bytes as sent", script.stdout, script.stderr)
	}
}

// signalWriter closes first on its first write. It is a plain Writer, so
// that io.Copy cannot read the whole response through a ReadFrom.
type signalWriter struct {
	buf   bytes.Buffer
	first chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	if w.buf.Len() == 0 {
		close(w.first)
	}
	return w.buf.Write(p)
}

// TestStreaming: the response reaches stdout as it arrives, and a body
// from stdin larger than what is kept (maxStdinBody) reaches the server
// as it is read, neither kept whole first.
func TestStreaming(t *testing.T) {
	release, gotPart := make(chan struct{}), make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		br := bufio.NewReader(r.Body)
		line, _ := br.ReadString('\n')
		gotPart <- line // the first line of the request body, before stdin ends
		rest, _ := io.ReadAll(br)
		fmt.Fprintf(w, "first %s", line)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		fmt.Fprintf(w, "then %s", rest)
	}))
	t.Cleanup(srv.Close)
	stdinR, stdinW := io.Pipe()
	out := &signalWriter{first: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Options{Target: srv.URL, Data: "@-", Stdin: stdinR, Stdout: out, Stderr: io.Discard,
			Token: (&tokens{}).source, HTTP: &http.Client{Timeout: 10 * time.Second}})
	}()
	partOne := strings.Repeat("x", maxStdinBody) + " part one\n"
	go io.WriteString(stdinW, partOne)
	select {
	case line := <-gotPart:
		if line != partOne {
			t.Fatalf("the server read %d bytes", len(line))
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the server got nothing before stdin ended: the request body was not streamed")
	}
	io.WriteString(stdinW, "part two\n")
	stdinW.Close()
	select {
	case <-out.first:
	case <-time.After(3 * time.Second):
		t.Fatal("nothing reached stdout before the response ended: the response was not streamed")
	}
	close(release)
	if err := <-done; err != nil || out.buf.String() != "first "+partOne+"then part two\n" {
		t.Errorf("err %v, stdout of %d bytes", err, out.buf.Len())
	}
}

// TestTokenNeverPrinted: whatever happens, the token is in nothing Run
// writes or returns (these servers never echo it).
func TestTokenNeverPrinted(t *testing.T) {
	const secret = "tok-SECRET-4b1d9e"
	foreign, _ := server(t, nil)
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, _ hit) {
		switch r.URL.Path {
		case "/401":
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(401)
		case "/403":
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(403)
		case "/away":
			http.Redirect(w, r, foreign.URL+"/x", http.StatusTemporaryRedirect)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/page":
			w.Header().Set("Link", "<"+foreign.URL+"/next>; rel=next")
			io.WriteString(w, "[]")
		case "/text":
			io.WriteString(w, "not json")
		default:
			w.WriteHeader(500)
		}
	})
	cases := []Options{
		{Target: "/401"}, {Target: "/403", Include: true}, {Target: "/401", Data: "@-", Stdin: strings.NewReader("x")},
		{Target: "/away", Data: "x"}, {Target: "/loop", Include: true}, {Target: "/page", Paginate: true},
		{Target: "/text", JQ: "."}, {Target: "/page", JQ: ".a"}, {Target: "/500", Include: true, StdoutTTY: true},
	}
	for _, typ := range []string{"Bearer", "DPoP", "weird"} {
		for _, o := range cases {
			o.BaseURL = srv.URL
			res := run(t, o, &tokens{value: secret, typ: typ})
			errText := ""
			if res.err != nil {
				errText = res.err.Error()
			}
			if res.err == nil || strings.Contains(res.stdout+res.stderr+errText, secret) {
				t.Errorf("%s %+v: stdout %q, stderr %q, err %v", typ, o, res.stdout, res.stderr, res.err)
			}
		}
	}
}

package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRetry: a refused token is renewed and the request sent again once,
// with the same body; a second refusal is the answer.
func TestRetry(t *testing.T) {
	file := writeFile(t, "file body")
	tests := []struct {
		name      string
		status    int    // of every refusal
		challenge string // WWW-Authenticate of the refusals
		refusals  int    // how many requests the server refuses before a 200
		o         Options
		wantHits  int
		wantCalls []bool
		wantErr   int // the *StatusError status, 0 for none
	}{
		{name: "401 then 200", status: 401, challenge: `Bearer error="invalid_token"`, refusals: 1, o: Options{Target: "/x"},
			wantHits: 2, wantCalls: []bool{false, true}},
		{name: "401 twice is the answer", status: 401, refusals: 99, o: Options{Target: "/x"},
			wantHits: 2, wantCalls: []bool{false, true}, wantErr: 401},
		{name: "403 invalid_token then 200", status: 403, challenge: `Bearer realm="api", error="invalid_token", error_description="expired"`, refusals: 1, o: Options{Target: "/x"},
			wantHits: 2, wantCalls: []bool{false, true}},
		{name: "403 DPoP invalid_token unquoted", status: 403, challenge: `DPoP algs="ES256", error=invalid_token`, refusals: 1, o: Options{Target: "/x"},
			wantHits: 2, wantCalls: []bool{false, true}},
		{name: "403 insufficient_scope is not retried", status: 403, challenge: `Bearer error="insufficient_scope"`, refusals: 1, o: Options{Target: "/x"},
			wantHits: 1, wantCalls: []bool{false}, wantErr: 403},
		{name: "403 naming invalid_token only in its description", status: 403, challenge: `Bearer error_description="invalid_token"`, refusals: 1, o: Options{Target: "/x"},
			wantHits: 1, wantCalls: []bool{false}, wantErr: 403},
		{name: "403 without a challenge is not retried", status: 403, refusals: 1, o: Options{Target: "/x"},
			wantHits: 1, wantCalls: []bool{false}, wantErr: 403},
		{name: "a string body is sent again", status: 401, refusals: 1, o: Options{Target: "/x", Data: "string body"},
			wantHits: 2, wantCalls: []bool{false, true}},
		{name: "a file body is read again", status: 401, refusals: 1, o: Options{Target: "/x", Data: "@" + file},
			wantHits: 2, wantCalls: []bool{false, true}},
		{name: "a fields body is sent again", status: 401, refusals: 1, o: Options{Target: "/x", Fields: []string{"a=1"}},
			wantHits: 2, wantCalls: []bool{false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			srv, rec := server(t, func(w http.ResponseWriter, r *http.Request, _ hit) {
				if n++; n <= tt.refusals {
					if tt.challenge != "" {
						w.Header().Set("WWW-Authenticate", tt.challenge)
					}
					w.WriteHeader(tt.status)
					io.WriteString(w, `{"refused":true}`)
					return
				}
				io.WriteString(w, `{"ok":true}`)
			})
			tt.o.BaseURL = srv.URL
			ts := &tokens{}
			res := run(t, tt.o, ts)
			hits := rec.all()
			if len(hits) != tt.wantHits || !slices.Equal(ts.calls, tt.wantCalls) {
				t.Fatalf("%d hit(s), token calls %v; want %d, %v", len(hits), ts.calls, tt.wantHits, tt.wantCalls)
			}
			for i, h := range hits {
				if want := "Bearer tok-" + string(rune('1'+i)); h.Header.Get("Authorization") != want {
					t.Errorf("request %d sent %q, want %q", i+1, h.Header.Get("Authorization"), want)
				}
				if h.Body != hits[0].Body || h.Method != hits[0].Method {
					t.Errorf("request %d: %s %q, the first %s %q", i+1, h.Method, h.Body, hits[0].Method, hits[0].Body)
				}
			}
			var se *StatusError
			switch {
			case tt.wantErr == 0 && (res.err != nil || res.stdout != `{"ok":true}`):
				t.Errorf("got %+v", res)
			case tt.wantErr != 0 && (!errors.As(res.err, &se) || se.Status != tt.wantErr || res.stdout != `{"refused":true}`):
				t.Errorf("got %+v, want a *StatusError %d", res, tt.wantErr)
			}
		})
	}
}

// TestRetryStdin: a body from standard input is kept in memory up to
// maxStdinBody and sent again after a renewal; a larger one was streamed
// once and is gone: the refusal is the answer, with a message saying why.
func TestRetryStdin(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
		retry bool
	}{
		{"small", "streamed", true},
		{"larger than what is kept", strings.Repeat("x", maxStdinBody+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv, rec := server(t, func(w http.ResponseWriter, r *http.Request, _ hit) {
				if n.Add(1) == 1 {
					w.WriteHeader(http.StatusUnauthorized)
					io.WriteString(w, "no")
					return
				}
				io.WriteString(w, "yes")
			})
			ts := &tokens{}
			res := run(t, Options{Target: srv.URL, Data: "@-", Stdin: strings.NewReader(tc.input)}, ts)
			hits := rec.all()
			if rec.all()[0].Body != tc.input {
				t.Fatalf("the first request carried %d bytes, want %d", len(hits[0].Body), len(tc.input))
			}
			if tc.retry {
				if res.err != nil || len(hits) != 2 || hits[1].Body != tc.input || res.stdout != "yes" || len(ts.calls) != 2 {
					t.Fatalf("err %v, %d hit(s), stdout %q, token calls %v", res.err, len(hits), res.stdout, ts.calls)
				}
				return
			}
			var se *StatusError
			if !errors.As(res.err, &se) || se.Status != 401 || len(hits) != 1 || len(ts.calls) != 1 || res.stdout != "no" {
				t.Fatalf("err %v, %d hit(s), token calls %v", res.err, len(hits), ts.calls)
			}
			if !strings.Contains(res.stderr, "came from standard input and cannot be sent again") || !strings.HasSuffix(res.stderr, "HTTP 401 Unauthorized\n") {
				t.Errorf("stderr %q", res.stderr)
			}
		})
	}
}

// TestRetryRenewFails: a source that cannot renew (login required) ends
// the run with its own error, and nothing more is sent.
func TestRetryRenewFails(t *testing.T) {
	srv, rec := server(t, func(w http.ResponseWriter, r *http.Request, _ hit) { w.WriteHeader(401) })
	sentinel := errors.New("login required")
	var calls []bool
	var stdout, stderr strings.Builder
	err := Run(t.Context(), Options{Target: srv.URL, Stdout: &stdout, Stderr: &stderr,
		Token: func(_ context.Context, renew bool) (Token, error) {
			calls = append(calls, renew)
			if renew {
				return Token{}, sentinel
			}
			return Token{Value: "tok"}, nil
		}})
	if err != sentinel || !slices.Equal(calls, []bool{false, true}) || len(rec.all()) != 1 {
		t.Errorf("err %v, token calls %v, %d hit(s)", err, calls, len(rec.all()))
	}
}

package api

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRedirects: a redirect is followed within the origin only; one to
// another origin is the answer, and that origin gets nothing.
func TestRedirects(t *testing.T) {
	foreign, caught := server(t, nil)
	home, rec := server(t, func(w http.ResponseWriter, r *http.Request, _ hit) {
		switch r.URL.Path {
		case "/old":
			http.Redirect(w, r, "/new", http.StatusFound)
		case "/old307":
			http.Redirect(w, r, "/new", http.StatusTemporaryRedirect)
		case "/away":
			w.Header().Set("Location", foreign.URL+"/steal?x=1")
			w.WriteHeader(http.StatusFound)
			io.WriteString(w, "moved away")
		case "/away307":
			http.Redirect(w, r, foreign.URL+"/steal", http.StatusTemporaryRedirect)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/new":
			io.WriteString(w, "new "+r.Method)
		}
	})
	tests := []struct {
		name       string
		o          Options
		typ        string
		wantHits   int
		wantStdout string
		wantStatus int    // of the *StatusError; 0 for none
		wantStderr string // in stderr
	}{
		{name: "same origin 302", o: Options{Target: "/old"}, wantHits: 2, wantStdout: "new GET"},
		{name: "same origin 307 sends the body again", o: Options{Target: "/old307", Data: "payload"}, wantHits: 2, wantStdout: "new POST"},
		{name: "same origin 307 with a stdin body kept in memory", o: Options{Target: "/old307", Data: "@-", Stdin: strings.NewReader("payload")},
			wantHits: 2, wantStdout: "new POST"},
		{name: "same origin 307 with a stdin body too large to keep", o: Options{Target: "/old307", Data: "@-", Stdin: strings.NewReader(strings.Repeat("x", maxStdinBody+1))},
			wantHits: 1, wantStatus: 307, wantStderr: "cannot be sent again"},
		{name: "another origin", o: Options{Target: "/away"}, wantHits: 1, wantStdout: "moved away", wantStatus: 302, wantStderr: "not following the redirect to " + foreign.URL},
		{name: "another origin, 307 with a DPoP token and a header", o: Options{Target: "/away307", Data: "payload", Headers: []string{"X-Api-Key: k"}}, typ: "DPoP",
			wantHits: 1, wantStatus: 307, wantStderr: "not following the redirect to " + foreign.URL},
		{name: "endless", o: Options{Target: "/loop"}, wantHits: maxRedirects + 1, wantStatus: 302, wantStderr: "sesame stops after 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.mu.Lock()
			rec.hits = nil
			rec.mu.Unlock()
			tt.o.BaseURL = home.URL
			ts := &tokens{typ: tt.typ}
			res := run(t, tt.o, ts)
			hits := rec.all()
			if len(hits) != tt.wantHits || len(ts.calls) != 1 {
				t.Fatalf("%d hit(s), %d token call(s)", len(hits), len(ts.calls))
			}
			for i, h := range hits {
				if h.Header.Get("Authorization") == "" || h.Body != hits[0].Body {
					t.Errorf("hop %d: Authorization %q, body %q", i, h.Header.Get("Authorization"), h.Body)
				}
			}
			if tt.wantStdout != "" && res.stdout != tt.wantStdout {
				t.Errorf("stdout %q", res.stdout)
			}
			var se *StatusError
			if tt.wantStatus == 0 && res.err != nil || tt.wantStatus != 0 && (!errors.As(res.err, &se) || se.Status != tt.wantStatus) {
				t.Errorf("err %v, want status %d", res.err, tt.wantStatus)
			}
			if !strings.Contains(res.stderr, tt.wantStderr) || strings.Contains(res.stderr, "steal") {
				t.Errorf("stderr %q", res.stderr)
			}
			if n := len(caught.all()); n != 0 {
				t.Errorf("the other origin got %d request(s)", n)
			}
		})
	}
}

// TestRedirectDowngrade: https to http on the same host is another
// origin (RFC 6454 §4), so the token does not follow it in clear text.
func TestRedirectDowngrade(t *testing.T) {
	plain, caught := server(t, nil)
	rec := &recorder{}
	tlsSrv := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		http.Redirect(w, r, plain.URL+"/x", http.StatusFound)
	})
	ts := &tokens{}
	res := run(t, Options{Target: tlsSrv.URL + "/x", HTTP: tlsSrv.Client()}, ts)
	var se *StatusError
	if !errors.As(res.err, &se) || se.Status != 302 || len(caught.all()) != 0 || len(rec.all()) != 1 {
		t.Errorf("err %v, %d request(s) over http", res.err, len(caught.all()))
	}
}

func TestSameOrigin(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"https://api.example/x", "https://API.example:443/y", true},
		{"http://127.0.0.1/x", "http://127.0.0.1:80/", true},
		{"https://api.example/x", "http://api.example/x", false},
		{"https://api.example/x", "https://api.example:8443/x", false},
		{"https://api.example/x", "https://evil.api.example/x", false},
		{"https://api.example/x", "https://api.example.evil/x", false},
	}
	for _, tt := range tests {
		a, b := mustParse(t, tt.a), mustParse(t, tt.b)
		if got := sameOrigin(a, b); got != tt.want {
			t.Errorf("sameOrigin(%s, %s) = %v", tt.a, tt.b, got)
		}
	}
}

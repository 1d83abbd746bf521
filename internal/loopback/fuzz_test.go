package loopback

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fuzzState is the state of the login every fuzzed callback is checked
// against. It holds characters that must be percent-encoded in a query, so
// that matching it is not just a byte comparison of the raw query.
const fuzzState = "st4te+/=~ x"

// fuzzIssuer is the issuer the RFC 9207 variants expect.
const fuzzIssuer = "https://idp.example/oidc"

// fuzzName is what the login flow greets the user with on success. Real
// names come from the ID token, so markup in them must come out escaped.
const fuzzName = `Eve <script>alert("x")</script> & co`

// How the fuzzed login flow answers an accepted response.
const (
	replyAsLogin   = iota // as login.go does: OK for a code, failure for an error
	replyEchoError        // a failure page that repeats the provider's error text
	replyAbandon          // no page at all: the flow stops and closes the listener
	replyTwice            // Finish called twice; the first page must win
	replyModes
)

// fuzzIssuerOptions are the RFC 9207 settings a login can run with.
var fuzzIssuerOptions = []Options{
	{},
	{Issuer: fuzzIssuer},
	{Issuer: fuzzIssuer, RequireIss: true},
}

// Fixed server pages, as ServeHTTP words them.
var (
	pageNotAllowed = Page{Message: "This address only accepts the sign-in redirect."}
	pageForeign    = Page{Message: "This sign-in response does not belong to the login in progress. Start the login again from the terminal."}
	pageDuplicate  = Page{Message: "This login already received its response. Return to the terminal."}
	pageStopped    = Page{Message: "The login stopped. Return to the terminal for details."}
	pageSignedIn   = Page{OK: true, Message: "You are signed in as " + fuzzName + ". You can close this tab and return to the terminal."}
	pageFailed     = Page{Message: "Sign-in did not complete. Return to the terminal for details."}
)

// fuzzReply is the page the flow shows for resp in the given mode; echo
// says whether it repeats text from the callback's query.
func fuzzReply(mode uint8, resp *Response) (p Page, echo bool) {
	switch {
	case mode == replyEchoError && resp.Err != nil:
		return Page{Message: "Sign-in did not complete: " + resp.Err.Error()}, true
	case resp.Code != "" && mode != replyEchoError:
		return pageSignedIn, false
	}
	return pageFailed, false
}

// pageHTML is exactly what render writes for p.
func pageHTML(p Page) string {
	w := httptest.NewRecorder()
	render(w, statusFor(p), p)
	return w.Body.String()
}

// notFoundBody is what http.NotFound writes.
var notFoundBody = func() string {
	w := httptest.NewRecorder()
	http.NotFound(w, httptest.NewRequest(http.MethodGet, "/", nil))
	return w.Body.String()
}()

// fixedText is every page the server or the flow shows without repeating
// the query, in one string: a code may only appear in a page by chance,
// when it is a piece of this text.
var fixedText = strings.Join([]string{
	notFoundBody, pageHTML(pageNotAllowed), pageHTML(pageForeign), pageHTML(pageDuplicate),
	pageHTML(pageStopped), pageHTML(pageSignedIn), pageHTML(pageFailed),
}, "\n")

// FuzzCallback drives ServeHTTP with arbitrary methods, paths and raw
// queries, twice each (a reload, or a replay by someone who saw the URL),
// with a login flow waiting on the other side. It checks that only the
// first callback carrying this login's state is handed to the flow, that
// what is handed over is what the query says, and that the browser gets
// exactly the page the server and flow chose, with nothing from the query
// in it unescaped and never the code.
func FuzzCallback(f *testing.F) {
	state := url.QueryEscape(fuzzState)
	for _, q := range []string{
		"code=the-code&state=" + state,
		"code=the-code&state=" + state + "&iss=" + url.QueryEscape(fuzzIssuer),
		"code=the-code&state=" + state + "&iss=https%3A%2F%2Fevil.example",
		"state=" + state + "&error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
		"state=" + state + "&error=%3Cb%3E&error_uri=javascript:alert(1)&code=c0de-leak",
		"state=" + state,
		"state=" + state + "&code=",
		"state=" + state + "&code=%3Cimg+src%3Dx%3E&state=other",
		"state=other&state=" + state + "&code=c",
		"code=the-code&state=wrong",
		"code=the-code&state=" + state + "x",
		"code=the-code",
		"code=the-code&state=st4te%2B%2F%3D~+x%00",
		"code=the-code&state=st4te+/=~ x",
		"code=%zz&state=" + state,
		"code=a;b&state=" + state,
		"code=Sign-in&state=" + state,
		"code=%3C&state=" + state,
		";&&==",
		"",
	} {
		for mode := range uint8(replyModes) {
			f.Add(http.MethodGet, CallbackPath, q, uint8(0), mode)
		}
		f.Add(http.MethodGet, CallbackPath, q, uint8(1), uint8(replyAsLogin))
		f.Add(http.MethodGet, CallbackPath, q, uint8(2), uint8(replyEchoError))
	}
	good := "code=the-code&state=" + state
	for _, mp := range [][2]string{
		{http.MethodPost, CallbackPath}, {http.MethodHead, CallbackPath}, {"get", CallbackPath},
		{"", CallbackPath}, {"G\x00ET", CallbackPath}, {http.MethodGet, "/callback/"},
		{http.MethodGet, "/Callback"}, {http.MethodGet, "/favicon.ico"}, {http.MethodGet, ""},
		{http.MethodGet, "/callback\x00"}, {http.MethodGet, "//callback"}, {http.MethodGet, "/callback/../callback"},
	} {
		f.Add(mp[0], mp[1], good, uint8(0), uint8(replyAsLogin))
	}

	f.Fuzz(func(t *testing.T, method, path, rawQuery string, issuerOpts, mode uint8) {
		mode %= replyModes
		opts := fuzzIssuerOptions[int(issuerOpts)%len(fuzzIssuerOptions)]
		opts.State = fuzzState
		var mu sync.Mutex
		warnings := 0
		opts.Warn = func(string) { mu.Lock(); warnings++; mu.Unlock() }
		s, err := Listen(opts)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()

		// The login flow: it takes every response Wait hands it until the
		// test is done with the browser side, and answers each.
		ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		var got []*Response
		var pages []Page
		var echoed []bool
		flowDone := make(chan struct{})
		go func() {
			defer close(flowDone)
			for {
				resp, err := s.Wait(ctx)
				if err != nil {
					return
				}
				p, echo := fuzzReply(mode, resp)
				got, pages, echoed = append(got, resp), append(pages, p), append(echoed, echo)
				switch mode {
				case replyAbandon:
					s.Close()
				case replyTwice:
					resp.Finish(p)
					resp.Finish(Page{OK: !p.OK, Message: "second page"})
				default:
					resp.Finish(p)
				}
			}
		}()

		q, _ := url.ParseQuery(rawQuery) // what ServeHTTP sees: malformed pairs are dropped
		matches := path == CallbackPath && method == http.MethodGet && q.Get("state") == fuzzState
		type result struct {
			status int
			body   string
			header http.Header
		}
		var results []result
		for range 2 {
			req := (&http.Request{
				Method: method, URL: &url.URL{Path: path, RawQuery: rawQuery},
				Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Header: http.Header{}, Host: s.host, RemoteAddr: "127.0.0.1:50000",
			}).WithContext(context.Background())
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			results = append(results, result{w.Code, w.Body.String(), w.Header()})
		}
		stop()
		<-flowDone

		// Only the first callback of this login reaches the flow.
		want := 0
		if matches {
			want = 1
		}
		if len(got) != want {
			t.Fatalf("%d responses delivered for %s %q ?%s, want %d", len(got), method, path, rawQuery, want)
		}
		// Nothing is left over for a later Wait either. ServeHTTP has
		// returned, so anything it sent is already queued: a context that
		// is already done is enough, and the queue is checked directly
		// because Wait picks at random between two ready cases.
		done, cancel := context.WithCancel(context.Background())
		cancel()
		if r, err := s.Wait(done); err == nil || len(s.results) != 0 {
			t.Fatalf("a further response %+v after the callbacks were served", r)
		}
		refused := 0
		if path == CallbackPath && method == http.MethodGet && !matches {
			refused = 2
		}
		mu.Lock()
		warned := warnings
		mu.Unlock()
		if s.Refused() != refused || warned != refused {
			t.Fatalf("refused %d and warned %d times, want %d", s.Refused(), warned, refused)
		}

		var echo bool
		if len(got) == 1 {
			checkResponse(t, got[0], q, opts)
			echo = echoed[0]
		}

		for i, res := range results {
			var wantPage *Page
			wantBody, wantStatus := notFoundBody, http.StatusNotFound
			switch {
			case path != CallbackPath:
			case method != http.MethodGet:
				wantPage, wantStatus = &pageNotAllowed, http.StatusMethodNotAllowed
			case !matches:
				wantPage, wantStatus = &pageForeign, http.StatusBadRequest
			case i > 0:
				wantPage, wantStatus = &pageDuplicate, http.StatusConflict
			case mode == replyAbandon:
				wantPage, wantStatus = &pageStopped, http.StatusBadRequest
			default:
				wantPage, wantStatus = &pages[0], statusFor(pages[0])
			}
			if wantPage != nil {
				wantBody = pageHTML(*wantPage)
				checkHeaders(t, res.header)
			}
			// 200 only for the first callback of this login, carrying a
			// code, once the flow said the sign-in worked.
			ok := i == 0 && matches && len(got) == 1 && got[0].Code != "" && mode != replyAbandon && pages[0].OK
			if (res.status == http.StatusOK) != ok {
				t.Fatalf("callback %d: status %d; state matched %v, delivered %d, mode %d", i+1, res.status, matches, len(got), mode)
			}
			if res.status != wantStatus {
				t.Fatalf("callback %d, %s %q: status %d, want %d", i+1, method, path, res.status, wantStatus)
			}
			if res.body != wantBody {
				t.Fatalf("callback %d: page\n%s\nwant\n%s", i+1, res.body, wantBody)
			}
			// Independently of which page it is: the only markup is the
			// template's, and the code never shows unless the flow itself
			// repeated query text that happens to contain it, or it is a
			// piece of the fixed wording.
			if wantPage != nil {
				if n, tmpl := strings.Count(res.body, "<"), strings.Count(pageHTML(Page{}), "<"); n != tmpl {
					t.Fatalf("callback %d: %d '<' in the page, the template has %d: query text unescaped\n%s", i+1, n, tmpl, res.body)
				}
			}
			if code := q.Get("code"); code != "" && strings.Contains(res.body, code) &&
				!(echo && i == 0) && !strings.Contains(fixedText, code) {
				t.Fatalf("callback %d: the page shows the code %q\n%s", i+1, code, res.body)
			}
		}
	})
}

// checkResponse checks a delivered response against the query it came from
// and the login's RFC 9207 settings.
func checkResponse(t *testing.T, r *Response, q url.Values, o Options) {
	t.Helper()
	if (r.Code == "") == (r.Err == nil) {
		t.Fatalf("response %+v: exactly one of Code and Err must be set", r)
	}
	iss := q.Get("iss")
	issuerOK := o.Issuer == "" || iss == o.Issuer || (iss == "" && !o.RequireIss)
	switch {
	case r.Code != "":
		if r.Code != q.Get("code") || q.Get("error") != "" || !issuerOK {
			t.Fatalf("code %q accepted from %v with %+v", r.Code, q, o)
		}
	case !issuerOK:
		if r.Err.Code != "issuer_mismatch" {
			t.Fatalf("iss %q against %+v gave %+v", iss, o, r.Err)
		}
	case q.Get("error") != "":
		if r.Err.Code != q.Get("error") || r.Err.Description != q.Get("error_description") || r.Err.URI != q.Get("error_uri") {
			t.Fatalf("error %+v from %v", r.Err, q)
		}
	default:
		if r.Err.Code != "invalid_response" {
			t.Fatalf("error %+v from %v", r.Err, q)
		}
	}
}

// checkHeaders checks what every page sends: the callback URL holds the
// code, so nothing may cache the page or take the URL onwards.
func checkHeaders(t *testing.T, h http.Header) {
	t.Helper()
	for k, v := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
	} {
		if h.Get(k) != v {
			t.Fatalf("%s: %q, want %q", k, h.Get(k), v)
		}
	}
}

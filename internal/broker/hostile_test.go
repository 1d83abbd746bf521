package broker

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startLimited serves a broker exactly as Start does (http.Server limits
// included, which httptest.NewServer would not apply) in front of a fake
// provider, with the given connection limits.
func startLimited(t testing.TB, limits connLimits, mutate func(*Config, *fakeIdP)) (*Server, *fakeIdP) {
	t.Helper()
	idp := newFakeIdP(t)
	cfg := testConfig(idp)
	if mutate != nil {
		mutate(&cfg, idp)
	}
	b, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b.conn = limits
	srv, err := b.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, idp
}

func hostPort(srv *Server) string { return strings.TrimPrefix(srv.URL, "http://") }

// rawResponse is one response read off a raw connection.
type rawResponse struct {
	status int
	header http.Header
	body   string
}

// rawResult is everything a server sent back on one connection.
type rawResult struct {
	responses []rawResponse
	// closed is true when the server ended the connection, false when it
	// was still open and silent at the deadline.
	closed bool
}

// rawExchange sends raw bytes on a fresh connection (a second writer keeps
// streaming more, if given, until the server stops reading) and reads every
// response until the server closes the connection or stays silent for
// quiet. Raw bytes are the only way to send what Go's client refuses to
// produce: conflicting framing headers, HTTP/1.0, oversized headers.
func rawExchange(t *testing.T, addr, raw string, more io.Reader, quiet time.Duration) rawResult {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() {
		// Write errors are expected: the server may refuse and hang up
		// before everything is sent.
		if _, err := io.WriteString(conn, raw); err == nil && more != nil {
			_, _ = io.Copy(conn, more)
		}
	}()
	var res rawResult
	br := bufio.NewReader(conn)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(quiet))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			res.closed = isClosed(err)
			if !res.closed && !isTimeoutErr(err) {
				t.Fatalf("reading a response: %v", err)
			}
			return res
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil && !isClosed(err) {
			t.Fatalf("reading a response body: %v", err)
		}
		res.responses = append(res.responses, rawResponse{status: resp.StatusCode, header: resp.Header, body: string(body)})
	}
}

func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}

func isTimeoutErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// formRequest is an HTTP/1.1 form POST to /token with the given extra
// header lines, framed by Content-Length.
func formRequest(body string, headers ...string) string {
	var b strings.Builder
	b.WriteString("POST /token HTTP/1.1\r\nHost: broker.test\r\nContent-Type: application/x-www-form-urlencoded\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	return b.String()
}

func chunked(body string) string {
	return fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
}

// checkJSONRefusal asserts a raw response is the broker's RFC 6749 error.
func checkJSONRefusal(t *testing.T, r rawResponse, status int) {
	t.Helper()
	if r.status != status || r.header.Get("Content-Type") != "application/json" || !strings.Contains(r.body, `"error":"`) {
		t.Errorf("got %d %q %s, want %d with an RFC 6749 JSON error", r.status, r.header.Get("Content-Type"), r.body, status)
	}
}

// endless is a chunked body that never ends: 4 KiB chunks, forever.
type endless struct{}

var endlessChunk = "1000\r\n" + strings.Repeat("a", 0x1000) + "\r\n"

func (endless) Read(p []byte) (int, error) {
	if len(p) < len(endlessChunk) {
		return 0, io.ErrShortBuffer
	}
	return copy(p, endlessChunk), nil
}

// TestHostileFraming sends what only a hostile or broken client sends at
// the HTTP level. Each is refused, by the broker with its JSON error or by
// Go's HTTP server itself, the connection is closed, and the provider
// never hears of it.
func TestHostileFraming(t *testing.T) {
	srv, idp := startLimited(t, defaultConnLimits(), nil)
	addr := hostPort(srv)
	refresh := refreshForm().Encode()
	// A refresh the provider would answer: if any framing trick makes the
	// broker parse it as a request of its own, the provider sees it.
	smuggled := formRequest(refresh)

	// Well-framed requests that the cases below distort are served, so
	// that each refusal below is down to its distortion alone.
	t.Run("controls", func(t *testing.T) {
		res := rawExchange(t, addr, smuggled, nil, 300*time.Millisecond)
		if len(res.responses) != 1 || res.responses[0].status != 200 || res.closed {
			t.Errorf("a plain refresh: got %+v, want 200 on a connection kept open", res)
		}
		res = rawExchange(t, addr, formRequest(refresh, "X-Pad: "+strings.Repeat("a", maxHeaderBytes/2)), nil, 300*time.Millisecond)
		if len(res.responses) != 1 || res.responses[0].status != 200 {
			t.Errorf("a refresh with headers under the limit: got %+v, want 200", res)
		}
		// A chunked body is served too, on a connection then closed.
		res = rawExchange(t, addr, frame("HTTP/1.1", "Transfer-Encoding: chunked", chunked(refresh)), nil, 3*time.Second)
		if len(res.responses) != 1 || res.responses[0].status != 200 || !res.closed {
			t.Errorf("a chunked refresh: got %+v, want 200 and the connection closed", res)
		}
	})
	const controls = 3

	t.Run("header over MaxHeaderBytes", func(t *testing.T) {
		// Go allows MaxHeaderBytes plus 4 KiB of slack; 64 KiB is over.
		res := rawExchange(t, addr, formRequest(refresh, "X-Pad: "+strings.Repeat("a", 2*maxHeaderBytes)), nil, 3*time.Second)
		if len(res.responses) != 1 || res.responses[0].status != http.StatusRequestHeaderFieldsTooLarge || !res.closed {
			t.Errorf("got %+v, want one 431 and the connection closed", res)
		}
	})

	t.Run("Content-Length of 10 MiB, body never sent", func(t *testing.T) {
		raw := strings.Replace(formRequest("grant_type"), "Content-Length: 10", "Content-Length: "+strconv.Itoa(10<<20), 1)
		start := time.Now()
		// Only 10 bytes of the 10 MiB come: an answer within 3 s proves
		// the broker refused on the declared length, not after reading.
		res := rawExchange(t, addr, raw, nil, 3*time.Second)
		if len(res.responses) != 1 || !res.closed {
			t.Fatalf("got %+v after %v, want one answer and the connection closed", res, time.Since(start))
		}
		checkJSONRefusal(t, res.responses[0], http.StatusRequestEntityTooLarge)
	})

	t.Run("chunked body that never ends", func(t *testing.T) {
		raw := "POST /token HTTP/1.1\r\nHost: broker.test\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
		res := rawExchange(t, addr, raw, endless{}, 3*time.Second)
		if len(res.responses) != 1 || !res.closed {
			t.Fatalf("got %+v, want one answer and the connection closed", res)
		}
		checkJSONRefusal(t, res.responses[0], http.StatusRequestEntityTooLarge)
	})

	// Request smuggling: a front proxy and the broker that disagree on
	// where a request ends would take the rest for a request of its own.
	// Go frames Content-Length plus chunked by the chunks (RFC 9112 §6.3);
	// the connection must then be closed (RFC 9112 §6.1), so that what
	// follows is never served. The carrier is a request the broker
	// refuses (it carries a client_secret), so the provider must see
	// nothing at all.
	carrier := with(refreshForm(), "client_secret", "x")
	for _, tt := range []struct {
		name, raw string
		status    int // the one answer expected
		json      bool
	}{
		{name: "Content-Length and Transfer-Encoding", status: 400, json: true,
			raw: frame("HTTP/1.1", "Content-Length: %d\r\nTransfer-Encoding: chunked", chunked(carrier)+smuggled)},
		{name: "Transfer-Encoding and a short Content-Length", status: 400, json: true,
			raw: frame("HTTP/1.1", "Transfer-Encoding: chunked\r\nContent-Length: 5", chunked(carrier)+smuggled)},
		{name: "HTTP/1.0 with Transfer-Encoding, kept alive", status: 401, json: true,
			// Go ignores Transfer-Encoding in HTTP/1.0, so the body is empty
			// and the smuggled request comes next on the connection.
			raw: frame("HTTP/1.0", "Transfer-Encoding: chunked\r\nConnection: keep-alive", "") + smuggled},
		{name: "HTTP/1.0 with Transfer-Encoding and Content-Length, kept alive", status: 400, json: true,
			raw: frame("HTTP/1.0", "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\nContent-Length: %d", carrier) + smuggled},
		{name: "Transfer-Encoding chunked, identity", status: 501,
			raw: frame("HTTP/1.1", "Transfer-Encoding: chunked, identity", chunked(carrier)) + smuggled},
		{name: "Transfer-Encoding twice", status: 501,
			raw: frame("HTTP/1.1", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", chunked(carrier)) + smuggled},
		{name: "Transfer-Encoding xchunked", status: 501,
			raw: frame("HTTP/1.1", "Transfer-Encoding: xchunked", chunked(carrier)) + smuggled},
		{name: "space before the colon", status: 400,
			raw: frame("HTTP/1.1", "Transfer-Encoding : chunked\r\nContent-Length: %d", carrier) + smuggled},
		{name: "two different Content-Lengths", status: 400,
			raw: frame("HTTP/1.1", "Content-Length: 5\r\nContent-Length: %d", carrier) + smuggled},
		{name: "Content-Length with a sign", status: 400,
			raw: frame("HTTP/1.1", "Content-Length: +%d", carrier) + smuggled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := rawExchange(t, addr, tt.raw, nil, 2*time.Second)
			if len(res.responses) != 1 || !res.closed {
				t.Fatalf("got %d answers %+v (closed %v), want one and the connection closed before anything smuggled is read",
					len(res.responses), res.responses, res.closed)
			}
			if tt.json {
				checkJSONRefusal(t, res.responses[0], tt.status)
			} else if res.responses[0].status != tt.status {
				t.Errorf("status %d, want %d from Go's HTTP server", res.responses[0].status, tt.status)
			}
		})
	}

	if got := idp.requests(); len(got) != controls {
		t.Errorf("the provider received %d requests, want only the %d controls: %+v", len(got), controls, got)
	}
}

// frame builds a form POST to /token with the given protocol and framing
// header lines; a %d in them becomes len(body).
func frame(proto, framing, body string) string {
	if strings.Contains(framing, "%d") {
		framing = fmt.Sprintf(framing, len(body))
	}
	return "POST /token " + proto + "\r\nHost: broker.test\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
		framing + "\r\n\r\n" + body
}

// TestHTTP10 checks that HTTP/1.0, which has no Host header and closes
// after each response by default, is served like HTTP/1.1: refusals are
// the same JSON errors, and a good request gets the provider's answer.
func TestHTTP10(t *testing.T) {
	srv, idp := startLimited(t, defaultConnLimits(), nil)
	addr := hostPort(srv)
	send := func(body string) rawResult {
		raw := "POST /token HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\n\r\n" + body
		return rawExchange(t, addr, raw, nil, 3*time.Second)
	}
	res := send(with(refreshForm(), "client_secret", "x"))
	if len(res.responses) != 1 || !res.closed {
		t.Fatalf("refused: got %+v, want one answer and the connection closed", res)
	}
	checkJSONRefusal(t, res.responses[0], http.StatusBadRequest)
	if got := len(idp.requests()); got != 0 {
		t.Fatalf("the provider received %d requests for a refused one", got)
	}
	res = send(refreshForm().Encode())
	if len(res.responses) != 1 || res.responses[0].status != 200 || res.responses[0].body != tokenJSON() || !res.closed {
		t.Errorf("good request: got %+v, want the provider's 200 and the connection closed", res)
	}
}

// TestHostileForms covers hostile parameters that TestRefusals does not
// (percent-encoding errors, code_verifier lengths and "+", localhost and
// repeated refresh_token or client_id are there): each gets a 4xx RFC 6749
// error and the provider hears nothing.
func TestHostileForms(t *testing.T) {
	ac, rf := authCodeForm(), refreshForm()
	longID := strings.Repeat("c", 60<<10)
	redirect := func(uri string) string { return set(ac, "redirect_uri", uri) }
	tests := []struct {
		name, body, contentType string
		status                  int
		code                    string
	}{
		// Controls: the forms the cases below distort are served.
		{name: "control: code exchange", body: ac.Encode(), status: 200},
		{name: "control: refresh", body: rf.Encode(), status: 200},
		{name: "client_id is a NUL byte", body: set(rf, "client_id", "\x00"), status: 401, code: "invalid_client"},
		{name: "client_id with a trailing NUL", body: set(rf, "client_id", testClientID+"\x00"), status: 401, code: "invalid_client"},
		{name: "client_id with a leading NUL", body: set(rf, "client_id", "\x00"+testClientID), status: 401, code: "invalid_client"},
		{name: "raw NUL byte in the body", body: "client_id=" + url.QueryEscape(testClientID) + "\x00&grant_type=refresh_token&refresh_token=r",
			status: 401, code: "invalid_client"},
		{name: "60 KiB client_id", body: set(rf, "client_id", longID), status: 401, code: "invalid_client"},
		{name: "client_id only in the query", body: with(rf, "client_id", ""), status: 401, code: "invalid_client"},
		{name: "redirect_uri with user information", body: redirect("http://user@127.0.0.1:53682/callback"), status: 400, code: "invalid_request"},
		{name: "redirect_uri whose user information looks like the host", body: redirect("http://127.0.0.1:53682@evil.example/callback"),
			status: 400, code: "invalid_request"},
		{name: "redirect_uri with a backslash before @", body: redirect(`http://evil.example\@127.0.0.1:53682/callback`), status: 400, code: "invalid_request"},
		{name: "redirect_uri with a fragment", body: redirect(testRedirect + "#frag"), status: 400, code: "invalid_request"},
		{name: "redirect_uri with an empty fragment", body: redirect(testRedirect + "#"), status: 400, code: "invalid_request"},
		{name: "redirect_uri with a fragment holding the host", body: redirect("http://evil.example#@127.0.0.1:53682/callback"),
			status: 400, code: "invalid_request"},
		{name: "redirect_uri on a subdomain of 127.0.0.1", body: redirect("http://127.0.0.1.evil.example:53682/callback"), status: 400, code: "invalid_request"},
		{name: "redirect_uri with an escaped dot in the host", body: redirect("http://127.0.0.1%2eevil.example:53682/callback"), status: 400, code: "invalid_request"},
		{name: "redirect_uri on LOCALHOST", body: redirect("http://LOCALHOST:53682/callback"), status: 400, code: "invalid_request"},
		{name: "redirect_uri on localhost.", body: redirect("http://localhost.:53682/callback"), status: 400, code: "invalid_request"},
		{name: "redirect_uri on 127.1", body: redirect("http://127.1:53682/callback"), status: 400, code: "invalid_request"},
		{name: "redirect_uri on a decimal address", body: redirect("http://2130706433:53682/callback"), status: 400, code: "invalid_request"},
		{name: "redirect_uri on an IPv4-mapped address", body: redirect("http://[::ffff:127.0.0.1]:53682/callback"), status: 400, code: "invalid_request"},
		{name: "redirect_uri with a CRLF", body: redirect(testRedirect + "\r\nX-Injected: 1"), status: 400, code: "invalid_request"},
		{name: "redirect_uri repeated, the second one elsewhere", body: with(ac, "redirect_uri", "https://evil.example/cb"), status: 400, code: "invalid_request"},
		{name: "code_verifier with a NUL byte", body: set(ac, "code_verifier", strings.Repeat("a", 43)+"\x00"), status: 400, code: "invalid_request"},
		{name: "code_verifier of 43 characters with a non-ASCII one", body: set(ac, "code_verifier", strings.Repeat("a", 42)+"é"), status: 400, code: "invalid_request"},
		{name: "code_verifier with base64 padding", body: set(ac, "code_verifier", strings.Repeat("a", 43)+"="), status: 400, code: "invalid_request"},
		{name: "code_verifier repeated", body: with(ac, "code_verifier", strings.Repeat("b", 43)), status: 400, code: "invalid_request"},
		{name: "grant_type repeated with the same value", body: with(rf, "grant_type", GrantRefreshToken), status: 400, code: "invalid_request"},
		{name: "grant_type repeated with another value", body: with(rf, "grant_type", GrantAuthorizationCode), status: 400, code: "invalid_request"},
		{name: "semicolon as a separator", body: "grant_type=refresh_token;client_id=" + url.QueryEscape(testClientID) + ";refresh_token=r",
			status: 400, code: "invalid_request"},
		{name: "JSON body sent as a form",
			body:   `{"grant_type":"refresh_token","client_id":"` + testClientID + `","refresh_token":"` + testRefresh + `"}`,
			status: 401, code: "invalid_client"},
		{name: "form sent as JSON with a charset trick", body: rf.Encode(), contentType: "application/json; x=application/x-www-form-urlencoded",
			status: 415, code: "invalid_request"},
	}
	tb := newTestBroker(t, nil)
	controls := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/token"
			if tt.name == "client_id only in the query" {
				path += "?client_id=" + url.QueryEscape(testClientID)
			}
			ct := tt.contentType
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			resp := tb.post(t, path, tt.body, "Content-Type", ct)
			body := readBody(t, resp)
			if tt.status == 200 {
				controls++
				if resp.StatusCode != 200 || body != tokenJSON() {
					t.Fatalf("got %d %s, want the provider's answer", resp.StatusCode, body)
				}
				return
			}
			if len(body) > 1024 {
				t.Errorf("a %d-byte answer echoes what was sent", len(body))
			}
			resp.Body = io.NopCloser(strings.NewReader(body))
			checkOAuthError(t, resp, tt.status, tt.code)
		})
	}
	if got := tb.idp.requests(); len(got) != controls {
		t.Errorf("the provider received %d requests, want only the %d controls: %+v", len(got), controls, got)
	}
	if logs := tb.logs.String(); strings.Contains(logs, longID[:1024]) || strings.Contains(logs, `\u0000`) {
		t.Error("the log holds a caller's client_id that is not configured")
	}
}

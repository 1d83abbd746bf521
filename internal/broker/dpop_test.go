package broker

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// testDPoPSignature ends every test proof: a base64url run that no log
// line may ever contain.
const testDPoPSignature = "DPoP-PROOF-SIGNATURE_9f8e7d6c5b4a39281706f5e4d3c2b1a0-zyxwvuts"

// testProof is a DPoP proof shaped as the CLI sends one (RFC 9449 §4.2):
// an ES256 JOSE header with its jwk, the claims for a POST to htu, and a
// signature. The broker never verifies it, so the signature is a marker.
func testProof(htu string) string {
	enc := base64.RawURLEncoding.EncodeToString
	header := `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256",` +
		`"x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}}`
	claims := `{"jti":"e1j3V_bKic8-LAEB","htm":"POST","htu":"` + htu + `","iat":1562262616}`
	return enc([]byte(header)) + "." + enc([]byte(claims)) + "." + testDPoPSignature
}

// postDPoP posts body to path with one DPoP header line per proof.
func postDPoP(t *testing.T, tb *testBroker, path, body string, proofs ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, tb.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if proofs != nil {
		req.Header["DPoP"] = proofs
	}
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// dpopRequests are the requests that may carry a proof: both grants at the
// token endpoint, and a pushed authorization request.
func dpopRequests() []struct{ name, path, body string } {
	return []struct{ name, path, body string }{
		{"authorization_code", "/token", authCodeForm().Encode()},
		{"refresh_token", "/token", refreshForm().Encode()},
		{"par", "/par", set(pushForm(), "client_id", testClientID)},
	}
}

// TestDPoPForwarded: the caller's proof reaches the provider byte for
// byte, once, next to the broker's client authentication; without one,
// the provider gets no DPoP header at all.
func TestDPoPForwarded(t *testing.T) {
	for _, r := range dpopRequests() {
		for _, method := range []string{AuthClientSecretBasic, AuthClientSecretPost} {
			t.Run(r.name+"/"+method, func(t *testing.T) {
				tb := newTestBroker(t, func(cfg *Config, _ *fakeIdP) { cfg.Clients[0].AuthMethod = method })
				proof := testProof(tb.idp.srv.URL + r.path)
				resp := postDPoP(t, tb, r.path, r.body, proof)
				if body := readBody(t, resp); resp.StatusCode != 200 {
					t.Fatalf("got %d %s", resp.StatusCode, body)
				}
				req := lastRequest(t, tb.idp)
				if got := req.header.Values("DPoP"); !slices.Equal(got, []string{proof}) {
					t.Errorf("the provider got DPoP %q, want the caller's proof unchanged", got)
				}
				if method == AuthClientSecretBasic && !strings.HasPrefix(req.header.Get("Authorization"), "Basic ") {
					t.Errorf("Authorization = %q: the client authentication is missing", req.header.Get("Authorization"))
				}
				if req.form.Has("DPoP") || req.form.Has("dpop") {
					t.Errorf("the proof leaked into the form: %v", req.form)
				}
			})
		}
		t.Run(r.name+"/without", func(t *testing.T) {
			tb := newTestBroker(t, nil)
			resp := postDPoP(t, tb, r.path, r.body)
			if body := readBody(t, resp); resp.StatusCode != 200 {
				t.Fatalf("got %d %s", resp.StatusCode, body)
			}
			if got, ok := lastRequest(t, tb.idp).header["Dpop"]; ok {
				t.Errorf("the provider got DPoP %q, and the caller sent none", got)
			}
		})
	}
}

// TestDPoPRefused: a proof that is repeated, too long or not a compact JWS
// is refused before anything is sent, and the refusal does not repeat it.
func TestDPoPRefused(t *testing.T) {
	proof := testProof("https://idp.example/token")
	signed := proof[:strings.LastIndexByte(proof, '.')+1]
	long := func(n int) string { return signed + strings.Repeat("A", n-len(signed)) } // n bytes
	if n := len(long(maxDPoPProof)); n != maxDPoPProof || !isCompactJWS(long(maxDPoPProof)) {
		t.Fatalf("long(%d) has %d bytes", maxDPoPProof, n)
	}
	cases := []struct {
		name   string
		proofs []string
		want   string // in error_description
	}{
		{"repeated", []string{proof, proof}, "repeated"},
		{"repeated, one empty", []string{proof, ""}, "repeated"},
		{"two in one line", []string{proof + ", " + proof}, "compact JWS"},
		{"over 8 KiB", []string{long(maxDPoPProof + 1)}, "8 KiB"},
		{"5 KB of garbage", []string{strings.Repeat("<", 5000)}, "compact JWS"},
		{"empty", []string{""}, "compact JWS"},
		{"one part", []string{"eyJhbGciOiJFUzI1NiJ9"}, "compact JWS"},
		{"two parts", []string{"eyJhbGciOiJFUzI1NiJ9.e30"}, "compact JWS"},
		{"four parts", []string{proof + ".e30"}, "compact JWS"},
		{"unsigned", []string{signed}, "compact JWS"},
		{"empty payload", []string{"eyJhbGciOiJFUzI1NiJ9.." + testDPoPSignature}, "compact JWS"},
		{"padded", []string{"eyJhbGciOiJFUzI1NiJ9.e30=." + testDPoPSignature}, "compact JWS"},
		{"standard base64", []string{"eyJhbGciOiJFUzI1NiJ9.e3+/." + testDPoPSignature}, "compact JWS"},
		{"impossible length", []string{"eyJhbGciOiJFUzI1NiJ9.e30Ab." + testDPoPSignature}, "compact JWS"},
		{"spaces inside", []string{"eyJhbGciOiJFUzI1NiJ9 .e30." + testDPoPSignature}, "compact JWS"},
		{"JWE", []string{"eyJhbGciOiJSU0EifQ.a2V5.aXY.Y2lwaGVy.dGFn"}, "compact JWS"},
		{"non-ASCII", []string{"eyJhbGciOiJFUzI1NiJ9.é30." + testDPoPSignature}, "compact JWS"},
	}
	for _, r := range dpopRequests() {
		for _, c := range cases {
			t.Run(r.name+"/"+c.name, func(t *testing.T) {
				tb := newTestBroker(t, nil)
				resp := postDPoP(t, tb, r.path, r.body, c.proofs...)
				body := readBody(t, resp)
				resp.Body = io.NopCloser(strings.NewReader(body))
				checkOAuthError(t, resp, http.StatusBadRequest, "invalid_request")
				if !strings.Contains(body, "DPoP header") || !strings.Contains(body, c.want) {
					t.Errorf("the refusal does not say what is wrong with the DPoP header (%q): %s", c.want, body)
				}
				if strings.Contains(body, testDPoPSignature) || len(body) > 400 {
					t.Errorf("the refusal repeats the proof: %s", body)
				}
				if got := tb.idp.requests(); len(got) != 0 {
					t.Errorf("a refused request reached the provider: %d requests", len(got))
				}
			})
		}
	}
	t.Run("exactly 8 KiB", func(t *testing.T) {
		tb := newTestBroker(t, nil)
		p := long(maxDPoPProof)
		if resp := postDPoP(t, tb, "/token", refreshForm().Encode(), p); resp.StatusCode != 200 {
			t.Fatalf("a proof of 8 KiB was refused: %d %s", resp.StatusCode, readBody(t, resp))
		}
		if got := lastRequest(t, tb.idp).header.Get("DPoP"); got != p {
			t.Errorf("a proof of 8 KiB was not forwarded as is (%d bytes arrived)", len(got))
		}
	})
}

// TestDPoPNotForRevokeOrIntrospect: revocation and introspection carry no
// proof (see dpop.go), so whatever DPoP header comes with them, malformed
// or repeated, is dropped without judging it, as an unknown parameter is.
func TestDPoPNotForRevokeOrIntrospect(t *testing.T) {
	for _, path := range []string{"/revoke", "/introspect"} {
		for _, proofs := range [][]string{{testProof("https://idp.example" + path)}, {"junk", "more junk"}} {
			t.Run(path, func(t *testing.T) {
				tb := newTestBroker(t, nil)
				tb.idp.reply(200, http.Header{"Content-Type": {"application/json"}}, `{"active":false}`)
				resp := postDPoP(t, tb, path, "client_id="+testClientID+"&token="+testRefresh, proofs...)
				if body := readBody(t, resp); resp.StatusCode != 200 {
					t.Fatalf("got %d %s", resp.StatusCode, body)
				}
				if got, ok := lastRequest(t, tb.idp).header["Dpop"]; ok {
					t.Errorf("%s forwarded DPoP %q", path, got)
				}
			})
		}
	}
}

// TestDPoPNonceRelayed: the provider's nonce challenge (RFC 9449 §8) comes
// back as it was sent, error body and DPoP-Nonce; so does a fresh nonce on
// a success, and the token_type DPoP in the body is not rewritten.
func TestDPoPNonceRelayed(t *testing.T) {
	const challenge = `{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}`
	dpopTokens := `{"access_token":"` + testAccess + `","token_type":"DPoP","expires_in":2677,"refresh_token":"` + testRefresh + `"}`
	nqchars := func() string { // every NQCHAR once
		var b strings.Builder
		for c := byte(0x21); c <= 0x7e; c++ {
			if c != '"' && c != '\\' {
				b.WriteByte(c)
			}
		}
		return b.String()
	}()
	cases := []struct {
		name, nonce string
		status      int
		body        string
	}{
		{"challenge", "eyJ7S_zG.eyJH0-Z.HX4w-7v", 400, challenge},
		{"fresh nonce with tokens", "eyJ7S_zG.eyJbYu3.xQmBj-1", 200, dpopTokens},
		{"every NQCHAR", nqchars, 400, challenge},
		{"1024 bytes", strings.Repeat("n", 1024), 400, challenge},
	}
	for _, r := range dpopRequests() {
		for _, c := range cases {
			t.Run(r.name+"/"+c.name, func(t *testing.T) {
				tb := newTestBroker(t, nil)
				tb.idp.reply(c.status, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"},
					"Dpop-Nonce": {c.nonce}}, c.body)
				resp := postDPoP(t, tb, r.path, r.body, testProof(tb.idp.srv.URL+r.path))
				if body := readBody(t, resp); resp.StatusCode != c.status || body != c.body {
					t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, c.status, c.body)
				}
				if got := resp.Header.Values("DPoP-Nonce"); !slices.Equal(got, []string{c.nonce}) {
					t.Errorf("DPoP-Nonce = %q, want %q", got, c.nonce)
				}
			})
		}
	}
}

// TestDPoPHostileNonce: a DPoP-Nonce that is not one 1*NQCHAR value within
// 1 KiB is not passed on; the rest of the answer still is. Control
// characters do not even get past Go's HTTP client: that answer is a 502.
func TestDPoPHostileNonce(t *testing.T) {
	const challenge = `{"error":"use_dpop_nonce"}`
	for _, c := range []struct {
		name   string
		nonces []string
		status int
	}{
		{"space", []string{"abc def"}, 400},
		{"tab", []string{"abc\tdef"}, 400},
		{"quote", []string{`abc"def`}, 400},
		{"backslash", []string{`abc\def`}, 400},
		{"non-ASCII", []string{"nonce-é"}, 400},
		{"1025 bytes", []string{strings.Repeat("n", 1025)}, 400},
		{"5 KB", []string{strings.Repeat("n", 5000)}, 400},
		{"two nonces", []string{"one", "two"}, 400},
		{"empty", []string{""}, 400},
		{"control character", []string{"abc\x01def"}, 502},
		{"DEL", []string{"abc\x7fdef"}, 502},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := newTestBroker(t, nil)
			tb.idp.reply(400, http.Header{"Content-Type": {"application/json"}, "Dpop-Nonce": c.nonces}, challenge)
			resp := postDPoP(t, tb, "/token", refreshForm().Encode(), testProof(tb.idp.srv.URL+"/token"))
			body := readBody(t, resp)
			if resp.StatusCode != c.status || c.status == 400 && body != challenge {
				t.Errorf("got %d %s, want %d", resp.StatusCode, body, c.status)
			}
			if got, ok := resp.Header["Dpop-Nonce"]; ok {
				t.Errorf("relayed DPoP-Nonce %q", got)
			}
		})
	}
}

// TestCheckReplyNonce holds the nonce rule below Go's HTTP parser, which
// already refuses some of these, so that it does not depend on it.
func TestCheckReplyNonce(t *testing.T) {
	for _, n := range []string{"a\x00b", "a\rb", "a\nb", "a\x1fb", "a\x7fb", "a\xffb", "a b", " ", strings.Repeat("n", 5<<10)} {
		resp := &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {"application/json"}, "Dpop-Nonce": {n}}}
		r, e := checkReply(resp, []byte(`{"error":"use_dpop_nonce"}`))
		if e != nil {
			t.Fatal(e)
		}
		if got, ok := r.header[dpopNonceHeader]; ok {
			t.Errorf("nonce %q relayed as %q", n, got)
		}
	}
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Dpop-Nonce": {"n-1"}}}
	if r, _ := checkReply(resp, nil); !slices.Equal(r.header[dpopNonceHeader], []string{"n-1"}) {
		t.Errorf("a valid nonce was not relayed: %v", r.header)
	}
}

// TestDPoPNeverLogged sends proofs down every path, forwarded or refused,
// with the logger at debug level in both formats, and looks for them.
func TestDPoPNeverLogged(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			tb := newTestBrokerFormat(t, nil, format)
			proof := testProof(tb.idp.srv.URL + "/token")
			for _, r := range dpopRequests() {
				readBody(t, postDPoP(t, tb, r.path, r.body, proof))
				readBody(t, postDPoP(t, tb, r.path, r.body, proof, proof))
				readBody(t, postDPoP(t, tb, r.path, r.body, proof+"."+testDPoPSignature))
				readBody(t, postDPoP(t, tb, r.path, r.body, proof+strings.Repeat("A", maxDPoPProof)))
			}
			readBody(t, postDPoP(t, tb, "/revoke", "client_id="+testClientID+"&token=t", proof))
			// The provider refuses, echoing the proof, then cannot be reached.
			tb.idp.reply(400, http.Header{"Content-Type": {"application/json"}, "Dpop-Nonce": {"n"}},
				`{"error":"invalid_dpop_proof","error_description":"bad proof `+proof+`"}`)
			readBody(t, postDPoP(t, tb, "/token", refreshForm().Encode(), proof))
			tb.idp.srv.Close()
			readBody(t, postDPoP(t, tb, "/token", refreshForm().Encode(), proof))

			logs := tb.logs.String()
			flag := `"dpop":true`
			if format == "text" {
				flag = "dpop=true"
			}
			for _, want := range []string{flag, "DPoP header is repeated", "8 KiB", "compact JWS", "invalid_dpop_proof", "provider unreachable"} {
				if !strings.Contains(logs, want) {
					t.Errorf("the log lacks %q, so a path was not exercised:\n%s", want, logs)
				}
			}
			for _, part := range append(strings.Split(proof, "."), proof) {
				if strings.Contains(logs, part) {
					t.Errorf("the log contains the proof or a part of it (%.20s…):\n%s", part, logs)
				}
			}
		})
	}
}

// FuzzDPoPProof: whatever DPoP header lines come with a token request,
// what is forwarded is one compact JWS within 8 KiB, in the alphabet that
// cannot end or split a header line, byte for byte what the caller sent.
func FuzzDPoPProof(f *testing.F) {
	proof := testProof("https://idp.example/token")
	for _, seed := range [][2]string{
		{proof, ""}, {proof, proof}, {"", ""}, {"a.b.c", ""}, {"a..c", ""}, {proof + "\r\nX-Evil: 1", ""},
		{"eyJ.e30.c2ln=", ""}, {strings.Repeat("A", 9000) + ".e30.c2ln", ""},
	} {
		f.Add(seed[0], seed[1], seed[1] != "")
	}
	f.Fuzz(func(t *testing.T, first, second string, two bool) {
		h := http.Header{"Dpop": {first}}
		if two {
			h["Dpop"] = append(h["Dpop"], second)
		}
		for _, ep := range []string{epToken, epPAR, epRevoke, epIntrospect} {
			got, e := dpopProof(ep, h)
			switch {
			case e != nil:
				checkRefusal(t, e)
			case ep == epRevoke || ep == epIntrospect:
				if got != "" {
					t.Fatalf("%s forwards a proof", ep)
				}
			case two:
				t.Fatalf("accepted two DPoP headers")
			case got != first || len(got) > maxDPoPProof || strings.Count(got, ".") != 2:
				t.Fatalf("forwards %q for %q", got, first)
			default:
				for i := 0; i < len(got); i++ {
					if c := got[i]; !(c == '.' || c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
						t.Fatalf("forwards byte %q", c)
					}
				}
			}
		}
	})
}

// TestDPoPThroughTransport: with an HTTP client of the caller's (and so
// through an http.Transport, not the broker's own connections), the proof
// still goes out unchanged and the nonce comes back.
func TestDPoPThroughTransport(t *testing.T) {
	idp := newFakeIdP(t)
	idp.reply(400, http.Header{"Content-Type": {"application/json"}, "Dpop-Nonce": {"n-42"}}, `{"error":"use_dpop_nonce"}`)
	b, err := New(testConfig(idp), Options{HTTP: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	if b.direct != nil {
		t.Fatal("a caller's HTTP client is bypassed")
	}
	_ = b.Discover(t.Context())
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	tb := &testBroker{b: b, srv: srv, idp: idp}
	proof := testProof(idp.srv.URL + "/token")
	resp := postDPoP(t, tb, "/token", refreshForm().Encode(), proof)
	if body := readBody(t, resp); resp.StatusCode != 400 || resp.Header.Get("DPoP-Nonce") != "n-42" {
		t.Errorf("got %d %s with DPoP-Nonce %q", resp.StatusCode, body, resp.Header.Get("DPoP-Nonce"))
	}
	if got := lastRequest(t, idp).header.Values("DPoP"); !slices.Equal(got, []string{proof}) {
		t.Errorf("the provider got DPoP %q", got)
	}
}

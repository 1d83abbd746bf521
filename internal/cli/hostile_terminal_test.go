package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// terminalPayloads take over a terminal that shows them raw: a clipboard
// write (OSC 52), a screen clear, and a window title change.
var terminalPayloads = map[string]string{
	"OSC 52":       "x\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUvc2ggfCBzaA==\x07",
	"screen clear": "x\x1b[2J\x1b[3J\x1b[H",
	"title":        "x\x1b]0;sudo password:\x07",
}

// terminalCases put each payload into each surface where text from a
// provider or a token reaches the terminal, and check that nothing sesame
// writes, on stdout or stderr, holds a control character other than a
// line break or a tab.
func terminalCases() []hostileCase {
	var cases []hostileCase
	for pname, payload := range terminalPayloads {
		for _, c := range terminalSurfaces(payload) {
			c.surface = "terminal"
			c.name += " (" + pname + ")"
			c.after = chainAfter(c.after, func(t *testing.T, _ *harness, stdout, stderr string) {
				assertInertOutput(t, "stdout", stdout)
				assertInertOutput(t, "stderr", stderr)
			})
			cases = append(cases, c)
		}
	}
	return cases
}

func terminalSurfaces(payload string) []hostileCase {
	q := url.QueryEscape(payload)
	callback := func(query string) func(*hostileBrowser, string, url.Values) bool {
		return func(b *hostileBrowser, _ string, v url.Values) bool {
			query = strings.ReplaceAll(query, "STATE", url.QueryEscape(v.Get("state")))
			query = strings.ReplaceAll(query, "ISS", url.QueryEscape(b.idp.Issuer))
			b.send("GET", callbackURL(v, query))
			return false
		}
	}
	oauthErr, _ := json.Marshal(map[string]string{"error": "invalid_request", "error_description": payload})
	exchangeFails := func(b *hostileBrowser, _ string, _ url.Values) bool {
		b.idp.FailNext(1, 400, "application/json", string(oauthErr))
		return true
	}
	// signedIn stages a token response whose ID token carries the payload
	// in the claims people see: name and email.
	signedIn := func(b *hostileBrowser, _ string, v url.Values) bool {
		c := b.idp.Claims()
		c["nonce"], c["email"], c["name"] = v.Get("nonce"), payload+"@example.com", payload
		body, _ := json.Marshal(map[string]any{"access_token": "at-x", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-x", "id_token": b.idp.SignIDToken(c)})
		b.idp.FailNext(1, 200, "application/json", string(body))
		return true
	}
	return []hostileCase{
		{name: "callback error_description", act: callback("error=access_denied&error_description=" + q + "&state=STATE&iss=ISS"), wantCode: 1, want: "access_denied"},
		{name: "callback error code", act: callback("error=" + q + "&state=STATE&iss=ISS"), wantCode: 1, want: "login failed"},
		{name: "token endpoint error at the exchange", act: exchangeFails, wantCode: 1, want: "invalid_request"},
		{name: "token endpoint error on refresh", setup: func(h *harness) { h.idp.FailNext(1, 400, "application/json", string(oauthErr)) },
			args: []string{"token"}, wantCode: 1, want: "invalid_request"},
		{name: "revocation endpoint error", setup: func(h *harness) {
			editStored(h, func(m map[string]any) { endpointsOf_(m)["revocation_endpoint"] = jsonServer(h, 400, string(oauthErr)) })
		}, args: []string{"revoke"}, wantCode: 1, want: "invalid_request"},
		{name: "device authorization error", setup: func(h *harness) { h.env["SESAME_DEVICE_URL"] = jsonServer(h, 400, string(oauthErr)) },
			args: []string{"login", "--device", "--timeout", "1500ms"}, wantCode: 1, want: "invalid_request"},
		{name: "device user_code", setup: func(h *harness) {
			body, _ := json.Marshal(map[string]any{"device_code": "dc", "user_code": payload, "verification_uri": "https://idp.example/device", "expires_in": 60, "interval": 1})
			h.env["SESAME_DEVICE_URL"] = jsonServer(h, 200, string(body))
		}, args: []string{"login", "--device", "--timeout", "1500ms"}, wantCode: 1, want: "device"},
		{name: "the Logged in as line", act: signedIn, mayStore: true, wantCode: 0},
		{name: "status", setup: func(h *harness) {
			editStored(h, func(m map[string]any) {
				m["identity"] = map[string]any{"sub": payload, "name": payload, "email": payload}
				m["scope"] = "openid " + payload
			})
		}, args: []string{"status"}, stdoutOK: true, wantCode: 0},
		{name: "userinfo values", setup: func(h *harness) {
			body, _ := json.Marshal(map[string]string{"sub": "alice", "name": payload})
			editStored(h, func(m map[string]any) { endpointsOf_(m)["userinfo_endpoint"] = jsonServer(h, 200, string(body)) })
			h.clock.Add(-2 * time.Minute) // the access token is valid: no refresh first
		}, args: []string{"userinfo"}, stdoutOK: true, wantCode: 0},
		{name: "signed userinfo response", setup: func(h *harness) {
			editStored(h, func(m map[string]any) {
				endpointsOf_(m)["userinfo_endpoint"] = rawServer(h, 200, "application/jwt", "eyJhbGciOiJSUzI1NiJ9."+payload+".c2ln")
			})
			h.clock.Add(-2 * time.Minute)
		}, args: []string{"userinfo"}, wantCode: 1, want: "signed userinfo response contains a control character"},
		{name: "introspection values", setup: func(h *harness) {
			body, _ := json.Marshal(map[string]any{"active": true, "username": payload, payload: "x"})
			editStored(h, func(m map[string]any) { endpointsOf_(m)["introspection_endpoint"] = jsonServer(h, 200, string(body)) })
			h.clock.Add(-2 * time.Minute)
		}, args: []string{"introspect"}, stdoutOK: true, wantCode: 0},
		{name: "claims of a token", setup: func(h *harness) {
			c := h.idp.Claims()
			c["name"], c[payload] = payload, payload
			h.env["TOKEN"] = h.idp.SignIDToken(c)
		}, args: []string{"claims", "$TOKEN"}, stdoutOK: true, wantCode: 0},
		{name: "discovery fields shown by doctor", setup: func(h *harness) {
			h.env["DOCTOR_ISSUER"] = discoveryWith(h, map[string]any{"issuer": payload, "code_challenge_methods_supported": []string{payload}})
		}, args: []string{"doctor", "--issuer", "$DOCTOR_ISSUER"}, stdoutOK: true, wantCode: 1},
	}
}

// assertInertOutput fails when out holds a control character other than a
// line break or a tab, a bidi control, or invalid UTF-8.
func assertInertOutput(t *testing.T, name, out string) {
	t.Helper()
	for i, r := range out {
		if r == '\n' || r == '\t' {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == utf8.RuneError {
			t.Errorf("%s holds %U at byte %d: %q", name, r, i, out)
			return
		}
	}
}

func chainAfter(fs ...func(*testing.T, *harness, string, string)) func(*testing.T, *harness, string, string) {
	return func(t *testing.T, h *harness, stdout, stderr string) {
		for _, f := range fs {
			if f != nil {
				f(t, h, stdout, stderr)
			}
		}
	}
}

// jsonServer answers every request with status and a JSON body.
func jsonServer(h *harness, status int, body string) string {
	return rawServer(h, status, "application/json", body)
}

// rawServer answers every request with status, ctype and body.
func rawServer(h *harness, status int, ctype, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	h.t.Cleanup(srv.Close)
	return srv.URL
}

// editStored changes the default profile's stored token set in place.
func editStored(h *harness, edit func(map[string]any)) {
	s := h.keychain()
	raw, err := s.Get("default")
	if err != nil {
		h.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		h.t.Fatal(err)
	}
	edit(m)
	raw, _ = json.Marshal(m)
	if err := s.Set("default", raw); err != nil {
		h.t.Fatal(err)
	}
}

func endpointsOf_(m map[string]any) map[string]any { return m["endpoints"].(map[string]any) }

// discoveryWith serves the test provider's discovery document with members
// replaced (or, for a nil value, left out), under an issuer of its own
// unless "issuer" is among them.
func discoveryWith(h *harness, members map[string]any) string {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(h.idp.Issuer + "/.well-known/openid-configuration")
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		var md map[string]any
		json.NewDecoder(resp.Body).Decode(&md)
		md["issuer"] = srv.URL
		for k, v := range members {
			if v == nil {
				delete(md, k)
			} else {
				md[k] = v
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(md)
	}))
	h.t.Cleanup(srv.Close)
	return srv.URL
}

package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/testidp"
)

type claimsReport struct {
	Token    string
	Header   map[string]any
	Claims   map[string]any
	Valid    bool
	Problems []string
}

func (e *Env) claims(stdin string, args ...string) (Result, claimsReport) {
	e.t.Helper()
	var r Result
	if stdin == "" {
		r = e.run(append([]string{"claims", "--json"}, args...)...)
	} else {
		r = e.runStdin(stdin, append([]string{"claims", "--json", "-"}, args...)...)
	}
	var rep claimsReport
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		e.t.Fatalf("claims --json: %v\n%s\n%s", err, r.Stdout, r.Stderr)
	}
	return r, rep
}

// sesame claims against a real provider: fresh ID tokens verify (RS256 and
// ES384, as Logto signs them); tampering, expiry, a wrong audience and
// alg none each fail with the check named.
func TestClaimsAgainstRealProvider(t *testing.T) {
	requireE2E(t)
	for _, alg := range []string{"RS256", "ES384"} {
		t.Run(alg, func(t *testing.T) {
			idp := startIdP(t, "--id-token-alg", alg, "--id-token-ttl", "3")
			e := newEnv(t)
			if r := e.login(idp); r.Code != 0 {
				t.Fatalf("login: %s", r.Stderr)
			}
			r, rep := e.claims("")
			if r.Code != 0 || !rep.Valid || rep.Header["alg"] != alg || rep.Claims["sub"] != "alice" || rep.Claims["aud"] != "sesame-cli" {
				t.Fatalf("fresh ID token: exit %d %+v\n%s", r.Code, rep, r.Stderr)
			}
			human := e.mustRun("claims").Stdout
			for _, want := range []string{"sub", "alice", "valid"} {
				if !strings.Contains(human, want) {
					t.Errorf("human output lacks %q:\n%s", want, human)
				}
			}

			tok := rep.Token
			i := strings.LastIndexByte(tok, '.') + 5
			flipped := tok[:i] + map[bool]string{true: "B", false: "A"}[tok[i] == 'A'] + tok[i+1:]
			r, rep = e.claims(flipped)
			if r.Code != 1 || rep.Valid || !strings.Contains(strings.Join(rep.Problems, ";"), "signature") || !strings.Contains(r.Stderr, "signature") {
				t.Errorf("flipped signature: exit %d %v %s", r.Code, rep.Problems, r.Stderr)
			}

			r, rep = e.claims(tok, "--audience", "another-client")
			if r.Code != 1 || !strings.Contains(r.Stderr, "aud") {
				t.Errorf("wrong audience: exit %d %v", r.Code, rep.Problems)
			}

			forged := testidp.ForgeJWT(map[string]any{"alg": "none", "typ": "JWT"}, rep.Claims, nil)
			r, rep = e.claims(forged)
			if r.Code != 1 || !strings.Contains(strings.Join(rep.Problems, ";"), "none") {
				t.Errorf("alg none: exit %d %v", r.Code, rep.Problems)
			}

			time.Sleep(3500 * time.Millisecond) // the ID token lives 3s
			r, rep = e.claims(tok, "--skew", "0s")
			if r.Code != 1 || !strings.Contains(strings.Join(rep.Problems, ";"), "exp") {
				t.Errorf("expired: exit %d %v", r.Code, rep.Problems)
			}
		})
	}
}

func TestDoctorAgainstProviders(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)
	r := e.run("doctor", "--issuer", idp.Issuer)
	if r.Code != 0 || !strings.Contains(r.Stdout, "✓ pkce") || !strings.Contains(r.Stdout, "✓ jwks") {
		t.Errorf("doctor against the real provider: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	t.Logf("sesame doctor --issuer %s:\n%s", idp.Issuer, r.Stdout)

	// A document with the issuer off by a trailing slash and no S256.
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": base + "/", "authorization_endpoint": base + "/auth", "token_endpoint": base + "/token",
			"jwks_uri": base + "/jwks", "response_types_supported": []string{"code"},
			"code_challenge_methods_supported": []string{"plain"},
		})
	}))
	defer srv.Close()
	base = srv.URL
	r = e.run("doctor", "--issuer", base, "--json")
	var rep struct {
		OK     bool
		Checks []struct{ Status, Check, Detail string }
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil || r.Code != 1 || rep.OK {
		t.Fatalf("doctor on a broken document: exit %d %v\n%s", r.Code, err, r.Stdout)
	}
	failed := map[string]bool{}
	for _, c := range rep.Checks {
		if c.Status == "fail" {
			failed[c.Check] = true
		}
	}
	if !failed["issuer"] || !failed["pkce"] {
		t.Errorf("failed checks %v; want issuer and pkce", failed)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	r = e.run("doctor", "--issuer", dead)
	if r.Code != 1 || !strings.Contains(r.Stdout, "✗ discovery") || r.Took > 5*time.Second {
		t.Errorf("doctor on a closed port: exit %d after %s\n%s", r.Code, r.Took, r.Stdout)
	}
}

func TestDoctorLogin(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t, "--path", "/oidc", "--id-token-alg", "ES384")
	e := newEnv(t)
	r := e.run("doctor", "--issuer", idp.Issuer, "--login")
	if r.Code == 0 {
		t.Fatalf("doctor --login without a client id should fail the login step:\n%s", r.Stdout)
	}
	if r := e.login(idp); r.Code != 0 {
		t.Fatalf("login: %s", r.Stderr)
	}
	before := e.stored()
	r = e.run("doctor", "--login")
	if r.Code != 0 || !strings.Contains(r.Stdout, "✓ login exchange") || !strings.Contains(r.Stdout, "sub=alice") {
		t.Fatalf("doctor --login: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if e.stored() != before {
		t.Error("doctor --login changed the stored tokens")
	}
	t.Logf("sesame doctor --login:\n%s", r.Stdout)
}

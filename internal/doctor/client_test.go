package doctor

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// TestClient: doctor asks the provider about the profile's client and
// redirect URI as a login would before opening the browser, pushed where
// the provider offers that, and says what to fix; it never signs in.
func TestClient(t *testing.T) {
	for _, par := range []bool{false, true} {
		name := "GET"
		if par {
			name = "pushed"
		}
		t.Run(name, func(t *testing.T) {
			idp := testidp.New(t, testidp.Options{PAR: par, ExactRedirect: "http://127.0.0.1:8765/callback"})
			p := config.Profile{Issuer: idp.Issuer, ClientID: idp.ClientID(), Port: 8765}
			it := Client(context.Background(), http.DefaultClient, p)
			if it.Status != StatusOK || it.Check != "client" ||
				!strings.HasPrefix(it.Detail, `client_id "test-client" with redirect URI http://127.0.0.1:8765/callback: `) {
				t.Errorf("good client: %+v", it)
			}
			if par && !strings.Contains(it.Detail, "pushed authorization request accepted") {
				t.Errorf("not pushed: %+v", it)
			}

			p.ClientID = "nope"
			it = Client(context.Background(), http.DefaultClient, p)
			if it.Status != StatusFail || !strings.Contains(it.Detail, "invalid_client") || !strings.HasPrefix(it.Remedy, `check client_id "nope" at the provider`) {
				t.Errorf("unknown client: %+v", it)
			}

			// No port: a free one, which an exact provider refuses, as it
			// would the login's.
			p.ClientID, p.Port = idp.ClientID(), 0
			it = Client(context.Background(), http.DefaultClient, p)
			if it.Status != StatusFail || !strings.Contains(it.Remedy, "register the redirect URI http://127.0.0.1/callback") ||
				!strings.Contains(it.Remedy, "pin a port") {
				t.Errorf("unpinned port: %+v", it)
			}
			if idp.Grants("authorization_code") != 0 {
				t.Error("doctor signed in")
			}
		})
	}
}

func TestClientUnreachable(t *testing.T) {
	idp := testidp.New(t, testidp.Options{})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	p := config.Profile{Issuer: idp.Issuer, ClientID: "cli", AuthURL: dead + "/auth", Port: 8765}
	it := Client(context.Background(), http.DefaultClient, p)
	if it.Status != StatusWarn || !strings.Contains(it.Detail, "could not check") {
		t.Errorf("%+v", it)
	}
	if got, _ := redirectURI(0); !strings.HasPrefix(got, "http://127.0.0.1:") || strings.HasSuffix(got, ":0/callback") {
		t.Errorf("redirect URI %s", got)
	}
	if got, _ := redirectURI(8765); got != "http://127.0.0.1:"+strconv.Itoa(8765)+"/callback" {
		t.Errorf("redirect URI %s", got)
	}
}

func TestReportAdd(t *testing.T) {
	r := &Report{OK: true}
	r.Add(ok("a", ""), warn("b", "", ""))
	if !r.OK || len(r.Items) != 2 {
		t.Fatalf("%+v", r)
	}
	r.Add(fail("c", "", ""))
	if r.OK {
		t.Fatal("a failed item left the report OK")
	}
}

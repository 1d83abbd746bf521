package tokencmd_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crypto"

	"github.com/go-jose/go-jose/v4"
	"github.com/zalando/go-keyring"

	"github.com/sesame-cli/sesame/internal/cmdutil"
	"github.com/sesame-cli/sesame/internal/dpop"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/store"
	"github.com/sesame-cli/sesame/internal/tokencmd"
)

// `sesame proof` signs with the stored key, for the stored access token,
// and refuses what a server could never accept, before reading anything.
func TestProof(t *testing.T) {
	keyring.MockInit()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	home := t.TempDir()
	env := map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_STATE_HOME": filepath.Join(home, "state")}
	const issuer = "https://idp.example.com"
	dir := filepath.Join(home, "config", "sesame")
	os.MkdirAll(dir, 0o700)
	cfg := "profiles:\n  bound:\n    issuer: " + issuer + "\n    client_id: cli\n  bearer:\n    issuer: " + issuer + "\n    client_id: cli\n"
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := dpop.Generate(dpop.ES256)
	if err != nil {
		t.Fatal(err)
	}
	jwk, _ := key.MarshalJSON()
	now := time.Now()
	for profile, k := range map[string][]byte{"bound": jwk, "bearer": nil} {
		s := &session.Session{Profile: profile, Store: store.NewKeychain(store.KeychainOptions{}), LockDir: t.TempDir()}
		tok := &session.Tokens{ClientID: "cli", Endpoints: provider.Endpoints{Issuer: issuer, Token: issuer + "/token"},
			AccessToken: "at-" + profile, TokenType: "DPoP", RefreshToken: "rt", ObtainedAt: now, Expiry: now.Add(time.Hour), DPoPKey: k}
		if err := s.SaveLogin(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		f := cmdutil.NewFactory(strings.NewReader(""), &out, &bytes.Buffer{}, func(k string) string { return env[k] })
		cmd := tokencmd.NewCmdProof(f, nil)
		cmd.SetArgs(args)
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		err := cmd.ExecuteContext(context.Background())
		return out.String(), err
	}

	out, err := run("GET", "https://api.example.com/me?x=1#f", "--nonce", "n-1")
	if err == nil {
		t.Fatalf("no --profile: the default profile is not in the file, want an error; printed %q", out)
	}
	env["SESAME_PROFILE"] = "bound"
	out, err = run("GET", "https://api.example.com/me?x=1#f", "--nonce", "n-1")
	if err != nil {
		t.Fatal(err)
	}
	proof := strings.TrimSuffix(out, "\n")
	jws, err := jose.ParseSigned(proof, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("not a JWS: %v", err)
	}
	h := jws.Signatures[0].Header
	if h.JSONWebKey == nil || h.ExtraHeaders["typ"] != "dpop+jwt" {
		t.Fatalf("header %+v", h)
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		t.Fatalf("the embedded key does not verify the proof: %v", err)
	}
	if tp, _ := h.JSONWebKey.Thumbprint(crypto.SHA256); base64.RawURLEncoding.EncodeToString(tp) != key.Thumbprint() {
		t.Fatalf("signed with another key than the stored one")
	}
	var c map[string]any
	json.Unmarshal(payload, &c)
	if c["htm"] != "GET" || c["htu"] != "https://api.example.com/me" || c["nonce"] != "n-1" || c["ath"] != dpop.ATH("at-bound") {
		t.Fatalf("claims %v", c)
	}

	env["SESAME_PROFILE"] = "bearer"
	var lr *session.LoginRequiredError
	if _, err := run("GET", "https://api.example.com/me"); !errors.As(err, &lr) {
		t.Fatalf("a bearer login: err %v, want a login-required error (exit 4)", err)
	}

	env["SESAME_PROFILE"] = "bound"
	for _, args := range [][]string{
		{"get", "https://api.example.com/me"},
		{"GET", "ftp://api.example.com/me"},
		{"GET", "/me"},
		{"GET", "https://api.example.com/me", "--nonce", "bad\"nonce"},
	} {
		var fe *cmdutil.FlagError
		if out, err := run(args...); !errors.As(err, &fe) || out != "" {
			t.Errorf("%q: err %v, printed %q; want a usage error and nothing printed", args, err, out)
		}
	}
}

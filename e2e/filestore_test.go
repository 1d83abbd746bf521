package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The file store (storage: file) under the leak checks: after a login, a
// refresh and a resource token, the 0600 token files hold the current
// tokens, and no file holds anything else the provider issued or received:
// not the spent refresh tokens, codes or verifiers, nor a leftover
// temporary file. The check is then shown to catch a copy of a token file
// elsewhere, and the previous token file left behind as a temporary file.
func TestFileStoreHoldsOnlyCurrentTokens(t *testing.T) {
	requireE2E(t)
	const api = "https://api.example.test"
	idp := startIdP(t)
	e := newEnv(t)
	e.NoKeychain = true
	if r := e.login(idp, "--insecure-storage", "--resource", api); r.Code != 0 {
		t.Fatalf("login: exit %d\n%s", r.Code, r.Stderr)
	}
	tokenDir := filepath.Join(e.Home, ".local", "state", "sesame", "tokens")
	loginFile, first, _ := tokenFile(t, tokenDir)
	e.mustRun("refresh")
	e.mustRun("token", "--resource", api) // a second file, and another rotation
	_, _, current := tokenFile(t, tokenDir)

	secrets := idp.secrets(t)
	spent := 0
	for v, kind := range secrets {
		if kind == "refresh token" && v != current {
			spent++
		}
	}
	if spent < 2 || secrets.count("authorization code") < 1 || secrets.count("code verifier") < 1 {
		t.Fatalf("the provider recorded %s; want spent refresh tokens, a code and a verifier to look for", secrets.byKind())
	}
	f := newFinder(secrets)
	problems, allowed := e.leaksInFiles(f)
	for _, p := range problems {
		t.Error(p)
	}
	// The login's access, refresh and ID tokens, and the resource token.
	if allowed < 4 {
		t.Errorf("the check found %d current tokens in the token files, want at least 4", allowed)
	}
	entries, _ := os.ReadDir(tokenDir)
	for _, d := range entries {
		if fi, err := d.Info(); err != nil || fi.Mode().Perm() != 0o600 || strings.HasPrefix(d.Name(), ".") {
			t.Errorf("token directory entry %s: mode %v, %v", d.Name(), fi.Mode(), err)
		}
	}

	// What the check must catch.
	copied := filepath.Join(e.Home, ".cache", "tokens.bak")
	stale := filepath.Join(tokenDir, ".tmp-1234")
	os.MkdirAll(filepath.Dir(copied), 0o700)
	now, _ := os.ReadFile(loginFile)
	if err := os.WriteFile(copied, now, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, first, 0o600); err != nil {
		t.Fatal(err)
	}
	problems, _ = e.leaksInFiles(f)
	for _, want := range []string{"is in the file ~/.cache/tokens.bak", "is in the file ~/.local/state/sesame/tokens/.tmp-1234"} {
		caught := false
		for _, p := range problems {
			caught = caught || strings.HasPrefix(p, "the refresh token") && strings.HasSuffix(p, want)
		}
		if !caught {
			t.Errorf("the file check misses the refresh token that %s: %q", want, problems)
		}
	}
	os.Remove(copied)
	os.Remove(stale)
}

// tokenFile finds the file holding the login (the one with a refresh
// token) and returns its path, its bytes and its refresh token.
func tokenFile(t *testing.T, dir string) (string, []byte, string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range entries {
		p := filepath.Join(dir, d.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var tk struct {
			RefreshToken string `json:"refresh_token"`
		}
		if json.Unmarshal(b, &tk) == nil && tk.RefreshToken != "" {
			return p, b, tk.RefreshToken
		}
	}
	t.Fatalf("no token file with a refresh token in %s", dir)
	return "", nil, ""
}

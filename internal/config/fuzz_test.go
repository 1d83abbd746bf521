package config

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// fuzzIssuer is what the fuzzed edit writes.
const fuzzIssuer = "https://idp.example"

// FuzzConfigLoad writes arbitrary bytes as the config file, loads it with
// an empty environment, and edits it the way "sesame init" does. A file is
// either refused with an error that names it, or every profile it lists
// loads; and an edit either fails leaving the file byte for byte as it was,
// or leaves a file that loads, with the edited profile changed in that one
// key and every other profile, and the current choice, as before.
func FuzzConfigLoad(f *testing.F) {
	for _, seed := range []string{
		"",
		"# only a comment\n",
		"---\n",
		"profiles:\n",
		"profiles: ~\ncurrent: work\n",
		"# sesame profiles\ncurrent: work   # switch with: sesame use\n\nprofiles:\n\n  # the company tenant\n  work:\n    issuer:   https://tenant.logto.app/oidc\n    client_id: 'abc123'\n    scopes:\n      - openid\n      - profile   # needed for the name\n    team: blue\n    # port: 8080\n\n  personal:\n    params: {login_hint: me@example.com}\n\n# trailing notes stay too\n",
		"current: work\nprofiles:\n  work:\n    issuer: https://tenant.logto.app/oidc\n    client_id: abc\n    scopes: [openid, profile]\n    resources: [https://api.example]\n    params: {prompt: login, login_hint: a@b}\n    storage: file\n    port: 8080\n    broker: https://broker.example\n",
		"profiles:\n  fuzz:\n    issuer: https://old.example\n    client_id: keep-me\n  other: {client_id: o}\n",
		"profiles:\n  fuzz: {client_id: c, scopes: [a]}\n",
		"profiles:\n  fuzz:\n  other:\n    port: 1\n",
		"profiles:\r\n  w:\r\n    port: 1\r\n",
		"profiles:\n    w:\n        port: 1\n",
		"profiles: {w: {port: 1}}\n",
		"{profiles: {w: {port: 1}}}\n",
		"profiles:\n  w:\n    note: |\n      text\n      # not a comment\n",
		"profiles:\n  w:\n    issuer: >-\n      https://folded\n    fuzz: x\n",
		"profiles:\n  w:\n    issuer: https://old\n      # was https://older\n    port: 1\n",
		"profiles:\n  w:\n    scopes:\n    - openid\n    port: 1\n",
		// Anchors, aliases and merge keys across profiles.
		"base: &b {issuer: https://b.example, client_id: c}\nprofiles:\n  w:\n    <<: *b\n    port: 2\n",
		"profiles:\n  a: &a\n    issuer: https://a.example\n  b: *a\n",
		"profiles:\n  fuzz: &f\n    client_id: shared\n  twin: *f\n",
		"profiles:\n  fuzz:\n    params: &p {x: y}\n  other:\n    params: *p\n",
		"profiles: &all\n  w: {}\nextra: *all\n",
		"current: &c fuzz\nprofiles:\n  *c : {port: 3}\n",
		"current: &c fuzz\nprofiles: {*c : {port: 3}, b: {port: 4}}\n",
		// Keys and values that need quoting or are not strings.
		"profiles:\n  \"fuzz\": {}\n  'we ird': {}\n  1: {}\n  null: {}\n  [a]: {}\n",
		"profiles:\n  w:\n    port: \"80\"\n",
		"profiles:\n  w:\n    port: 0x1F\n",
		"profiles:\n  w:\n    port: 99999999999999999999\n",
		"profiles:\n  w:\n    issuer: !!binary aGVsbG8=\n",
		"profiles:\n  w:\n    params: {a: 1, b: [x]}\n",
		"profiles:\n  w:\n    scopes: openid\n",
		"profiles:\n  w: []\n",
		"profiles: []\n",
		"profiles:\n  w:\n    issuer: [\n",
		"profiles:\n\twork: {}\n",
		"profiles:\n  a: {}\n  a: {}\n",
		"- a\n",
		"a: 1\n---\nb: 2\n",
		"\ufeffprofiles:\n  w: {}\n",
		"profiles:\n  w:\n    issuer: \"\xff\xfe\"\n",
		"profiles:\n  w: {issuer: x} # trailing\n# end",
		"profiles:\n  w:\n    client_id: a\n  # comment at profile level\n    port: 4\n",
		"current: fuzz\nprofiles:\n  fuzz:\n    issuer: " + fuzzIssuer + "\n",
		"clientid: x\nprofiles:\n  w:\n    clientid: y\n    issuer: https://i\n",
		"a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\nprofiles: {}\n",
		"profiles:\n  p1: {}\n  p2: {port: 2}\n  p3:\n    port: 3\n  zz: {}\n",
	} {
		f.Add([]byte(seed))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		noEnv := func(string) string { return "" }
		c, err := Load(path, noEnv)
		if err != nil {
			if c != nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("Load: config %v and an error that does not name the file: %v", c, err)
			}
			return
		}
		before := fuzzProfiles(t, c)
		for _, w := range c.Warnings {
			if !strings.HasPrefix(w, path+":") {
				t.Fatalf("warning %q does not point into the file", w)
			}
		}

		err = SaveProfile(path, "fuzz", map[string]any{"issuer": fuzzIssuer})
		after, _ := os.ReadFile(path)
		if err != nil {
			if !bytes.Equal(after, data) {
				t.Fatalf("SaveProfile failed (%v) but changed the file:\n%q\nto\n%q", err, data, after)
			}
			fuzzNoLeftovers(t, path)
			return
		}
		fuzzNoLeftovers(t, path)
		if runtime.GOOS != "windows" {
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("after SaveProfile: %v %v", fi.Mode(), err)
			}
		}
		c2, err := Load(path, noEnv)
		if err != nil {
			t.Fatalf("SaveProfile left a file Load refuses: %v\nbefore:\n%q\nafter:\n%q", err, data, after)
		}
		got := fuzzProfiles(t, c2)
		want := before
		wantFuzz, had := before["fuzz"]
		if !had {
			wantFuzz = Profile{Name: "fuzz"}
		}
		wantFuzz.Issuer = fuzzIssuer
		want["fuzz"] = wantFuzz
		for name, p := range want {
			if !reflect.DeepEqual(got[name], p) {
				t.Fatalf("profile %q after SaveProfile:\n%+v\nwant\n%+v\nbefore:\n%q\nafter:\n%q", name, got[name], p, data, after)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("profiles after SaveProfile %v, want %v\nbefore:\n%q\nafter:\n%q", c2.ProfileNames(), slices.Sorted(maps.Keys(want)), data, after)
		}
		if c2.Current != c.Current {
			t.Fatalf("current %q became %q\nbefore:\n%q\nafter:\n%q", c.Current, c2.Current, data, after)
		}

		// The same edit again changes nothing, not even the bytes.
		if err := SaveProfile(path, "fuzz", map[string]any{"issuer": fuzzIssuer}); err != nil {
			t.Fatalf("repeating the edit: %v\nfile:\n%q", err, after)
		}
		if again, _ := os.ReadFile(path); !bytes.Equal(again, after) {
			t.Fatalf("repeating the edit changed the file:\n%q\nto\n%q", after, again)
		}
	})
}

// fuzzProfiles loads every profile c lists, checking that each loads under
// its own name and that callers cannot write into c through the result.
func fuzzProfiles(t *testing.T, c *Config) map[string]Profile {
	t.Helper()
	names := c.ProfileNames()
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Fatalf("ProfileNames %q not sorted and unique", names)
	}
	out := make(map[string]Profile, len(names))
	for _, name := range names {
		p, err := c.Profile(name)
		if err != nil || p.Name != name {
			t.Fatalf("Profile(%q) = %+v, %v", name, p, err)
		}
		out[name] = p
		// Write through what Profile returned, as a caller layering flags
		// does, and read the profile again.
		mut, _ := c.Profile(name)
		if len(mut.Scopes) > 0 {
			mut.Scopes[0] = "changed"
		}
		if len(mut.Resources) > 0 {
			mut.Resources[0] = "changed"
		}
		if mut.Params != nil {
			mut.Params["changed"] = "changed"
		}
		if again, _ := c.Profile(name); !reflect.DeepEqual(again, p) {
			t.Fatalf("Profile(%q) shares memory with its caller: %+v became %+v", name, p, again)
		}
	}
	return out
}

// fuzzNoLeftovers: an edit, failed or not, leaves only the file itself.
func fuzzNoLeftovers(t *testing.T, path string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(path) {
			t.Fatalf("left %s next to the config file", e.Name())
		}
	}
}

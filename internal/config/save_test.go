package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// A hand-written file: header comment, blank lines, odd spacing, a comment
// on a value, a commented-out key, an unknown key, quoting.
const handWritten = `# sesame profiles
current: work   # switch with: sesame use

profiles:

  # the company tenant
  work:
    issuer:   https://tenant.logto.app/oidc
    client_id: 'abc123'
    scopes:
      - openid
      - profile   # needed for the name
    storage: keychain  # keychain (default) | file
    team: blue
    # port: 8080

  personal:
    issuer: https://accounts.google.com
    params: {login_hint: me@example.com}

# trailing notes stay too
`

func TestSaveProfileEdits(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]any
		want string // handWritten after the edit
	}{
		{"change a scalar, keep its comment", map[string]any{"storage": "file"},
			strings.Replace(handWritten, "storage: keychain  #", "storage: file #", 1)},
		{"replace a block list, keep it block", map[string]any{"scopes": []string{"openid", "email"}},
			strings.Replace(handWritten, "      - openid\n      - profile   # needed for the name\n", "      - openid\n      - email\n", 1)},
		{"remove keys", map[string]any{"client_id": "", "scopes": nil, "port": 0},
			strings.Replace(handWritten, "    client_id: 'abc123'\n    scopes:\n      - openid\n      - profile   # needed for the name\n", "", 1)},
		{"add keys after the last one", map[string]any{"port": 8080, "resources": []string{"https://api.example.com"}},
			strings.Replace(handWritten, "    team: blue\n", "    team: blue\n    resources: ['https://api.example.com']\n    port: 8080\n", 1)},
		{"edit flow params", map[string]any{"params": map[string]string{"prompt": "login"}},
			strings.Replace(handWritten, "{login_hint: me@example.com}", "{prompt: login}", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, handWritten)
			name := "work"
			if _, ok := tt.set["params"]; ok {
				name = "personal"
			}
			if err := SaveProfile(path, name, tt.set); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, path); got != tt.want {
				t.Errorf("file after edit:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestSaveProfileNameNeedingQuotes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	for _, name := range []string{"123", "null", "true"} {
		if err := SaveProfile(path, name, map[string]any{"port": 1}); err != nil {
			t.Fatal(err)
		}
	}
	if got := mustLoad(t, path, nil).ProfileNames(); !reflect.DeepEqual(got, []string{"123", "null", "true"}) {
		t.Errorf("ProfileNames = %q\n%s", got, readFile(t, path))
	}
}

func TestSaveProfileNewProfileKeepsTheRest(t *testing.T) {
	path := writeFile(t, handWritten)
	if err := SaveProfile(path, "Lab.Dex", map[string]any{
		"issuer": "http://127.0.0.1:5556/dex", "client_id": "cli", "scopes": []string{"openid", "email"},
	}); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, path)
	added := "  Lab.Dex:\n    issuer: http://127.0.0.1:5556/dex\n    client_id: cli\n    scopes: [openid, email]\n"
	want := strings.Replace(handWritten, "{login_hint: me@example.com}\n", "{login_hint: me@example.com}\n"+added, 1)
	if got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
}

func TestSaveProfileReshapes(t *testing.T) {
	tests := []struct{ name, before, want string }{
		{"no file", "", "profiles:\n  w:\n    issuer: https://i\n"},
		{"comment only", "# mine\n", "# mine\nprofiles:\n  w:\n    issuer: https://i\n"},
		{"no profiles key", "current: w\n", "current: w\nprofiles:\n  w:\n    issuer: https://i\n"},
		{"null profiles", "profiles: # soon\ncurrent: w\n", "profiles: # soon\n  w:\n    issuer: https://i\ncurrent: w\n"},
		{"null profile", "profiles:\n  w:\n  x: {}\n", "profiles:\n  w:\n    issuer: https://i\n  x: {}\n"},
		{"flow profile", "profiles:\n  w: {client_id: c}\n", "profiles:\n  w:\n    client_id: c\n    issuer: https://i\n"},
		{"same-indent list", "profiles:\n  w:\n    scopes:\n    - openid\n    port: 1\n", "profiles:\n  w:\n    scopes:\n    - openid\n    port: 1\n    issuer: https://i\n"},
		{"crlf", "profiles:\r\n  w:\r\n    port: 1\r\n", "profiles:\r\n  w:\r\n    port: 1\r\n    issuer: https://i\r\n"},
		{"4-space indent", "profiles:\n    w:\n        port: 1\n", "profiles:\n    w:\n        port: 1\n        issuer: https://i\n"},
		{"deeper comment after a replaced value stays", "profiles:\n  w:\n    issuer: https://old\n      # was https://older\n    port: 1\n",
			"profiles:\n  w:\n    issuer: https://i\n      # was https://older\n    port: 1\n"},
		{"block scalar before", "profiles:\n  w:\n    note: |\n      text\n      # not a comment\n", "profiles:\n  w:\n    note: |\n      text\n      # not a comment\n    issuer: https://i\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			if tt.before != "" {
				path = writeFile(t, tt.before)
			}
			if err := SaveProfile(path, "w", map[string]any{"issuer": "https://i"}); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, path); got != tt.want {
				t.Errorf("file:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}

func TestSaveProfileCreatesPrivateFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix permission bits")
	}
	dir := filepath.Join(t.TempDir(), "a", "sesame")
	path := filepath.Join(dir, "config.yaml")
	if err := SaveProfile(path, "default", nil); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
	}
	if got := mustLoad(t, path, nil).ProfileNames(); !reflect.DeepEqual(got, []string{"default"}) {
		t.Errorf("ProfileNames = %q, want the empty profile", got)
	}
}

func TestSaveProfileRoundTrip(t *testing.T) {
	path := writeFile(t, handWritten)
	want := Profile{
		Name: "work", Issuer: "https://idp.example.com", ClientID: "id", Scopes: []string{"openid", "urn:x:y"},
		Resources: []string{"https://api"}, Params: map[string]string{"login_hint": "a@b", "Mixed_Case": "1"},
		Storage: "file", Port: 0, Broker: "https://broker", AuthURL: "https://idp/a", TokenURL: "https://idp/t",
		UserinfoURL: "https://idp/u", RevocationURL: "https://idp/r", IntrospectionURL: "https://idp/i",
		EndSessionURL: "https://idp/e", JWKSURL: "https://idp/j",
	}
	set := map[string]any{}
	for _, key := range profileKeys() {
		f, _ := fieldFor(key)
		set[key] = reflect.ValueOf(want).FieldByIndex(f.Index).Interface()
	}
	if err := SaveProfile(path, "work", set); err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, path, nil)
	got, _ := c.Profile("work")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded\n%+v\nwant\n%+v", got, want)
	}
	if want := []string{path + `:14: profile "work": unknown key "team"`}; !reflect.DeepEqual(c.Warnings, want) {
		t.Errorf("unknown keys must be kept: warnings %q", c.Warnings)
	}
}

func TestSaveProfileRejects(t *testing.T) {
	tests := []struct {
		name, profile string
		set           map[string]any
		want          string
	}{
		{"unknown key", "w", map[string]any{"clientid": "x"}, `unknown profile key "clientid"`},
		{"wrong type", "w", map[string]any{"port": "8080"}, `"port": want a whole number`},
		{"list as string", "w", map[string]any{"scopes": "openid"}, `"scopes": want a list of strings`},
		{"bad name", "a b", nil, `profile name "a b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, handWritten)
			err := SaveProfile(path, tt.profile, tt.set)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if readFile(t, path) != handWritten {
				t.Error("file changed after a rejected save")
			}
		})
	}
	t.Run("malformed file", func(t *testing.T) {
		path := writeFile(t, "profiles: [\n")
		if err := SaveProfile(path, "w", nil); err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("err = %v, want one naming %s", err, path)
		}
	})
	for name, text := range map[string]string{
		"file Load rejects":            "current: [a, b]\nprofiles: {}\n",
		"anchor in the replaced value": "profiles:\n  a:\n    scopes: &s [openid]\n  b:\n    scopes: *s\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, text)
			err := SaveProfile(path, "a", map[string]any{"scopes": []string{"x"}})
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want one naming %s", err, path)
			}
			if readFile(t, path) != text {
				t.Error("file changed after a failed save")
			}
		})
	}
	t.Run("profile is a scalar", func(t *testing.T) {
		path := writeFile(t, "profiles:\n  w: oops\n")
		if err := SaveProfile(path, "w", map[string]any{"port": 1}); err == nil || !strings.Contains(err.Error(), path+":2:6: ") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSaveProfileIsAtomic(t *testing.T) {
	path := writeFile(t, handWritten)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveProfile(path, "work", map[string]any{"port": 1}); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(before, after) {
		t.Error("file was rewritten in place, want a new file renamed over it")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only config.yaml", len(entries))
	}
}

func TestSaveProfileFollowsSymlink(t *testing.T) {
	target := writeFile(t, handWritten)
	link := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	if err := SaveProfile(link, "work", map[string]any{"port": 1}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("link replaced by a file: %v %v", fi, err)
	}
	if !strings.Contains(readFile(t, target), "port: 1") {
		t.Error("target not updated")
	}
}

func TestWriteAtomicCleansUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	// A non-empty directory in the way makes the rename fail.
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeAtomic(path, []byte("a: 1\n")); err == nil {
		t.Fatal("writeAtomic succeeded over a directory")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temp file left behind: %v", entries)
	}
}

func TestSetCurrent(t *testing.T) {
	path := writeFile(t, handWritten)
	if err := SetCurrent(path, "personal"); err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(handWritten, "current: work   #", "current: personal #", 1)
	if got := readFile(t, path); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	if err := SetCurrent(path, ""); err != nil {
		t.Fatal(err)
	}
	want = strings.Replace(handWritten, "current: work   # switch with: sesame use\n", "", 1)
	if got := readFile(t, path); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}

	fresh := filepath.Join(t.TempDir(), "config.yaml")
	if err := SetCurrent(fresh, "w"); err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, fresh, nil).Current; got != "w" {
		t.Errorf("Current = %q", got)
	}
	if err := SetCurrent(fresh, "a b"); err == nil {
		t.Error("want an error for an invalid name")
	}
}

func TestRemoveProfile(t *testing.T) {
	path := writeFile(t, handWritten)
	if err := RemoveProfile(path, "personal"); err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(handWritten, "  personal:\n    issuer: https://accounts.google.com\n    params: {login_hint: me@example.com}\n", "", 1)
	if got := readFile(t, path); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}

	// Removing the current profile drops "current" too.
	if err := RemoveProfile(path, "work"); err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, path, nil)
	if c.Current != "" || len(c.ProfileNames()) != 0 {
		t.Errorf("after removing all: current %q, profiles %q", c.Current, c.ProfileNames())
	}
	if got := readFile(t, path); !strings.Contains(got, "# sesame profiles") || !strings.Contains(got, "# trailing notes stay too") {
		t.Errorf("comments lost:\n%s", got)
	}

	err := RemoveProfile(path, "nope")
	if !errors.Is(err, ErrProfileNotFound) {
		t.Errorf("err = %v, want ErrProfileNotFound", err)
	}
	missing := filepath.Join(t.TempDir(), "config.yaml")
	if err := RemoveProfile(missing, "x"); !errors.Is(err, ErrProfileNotFound) {
		t.Errorf("err = %v, want ErrProfileNotFound", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Error("RemoveProfile created a file")
	}
}

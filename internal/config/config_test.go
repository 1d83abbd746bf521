package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// envOf fakes the environment so tests never read or set the real one.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustLoad(t *testing.T, path string, env map[string]string) *Config {
	t.Helper()
	c, err := Load(path, envOf(env))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestDefaultPath(t *testing.T) {
	root := t.TempDir() // absolute on every OS
	at := func(parts ...string) string { return filepath.Join(append([]string{root}, parts...)...) }
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"xdg", map[string]string{"XDG_CONFIG_HOME": at("xdg"), "HOME": at("home")}, at("xdg", "sesame", "config.yaml")},
		{"home", map[string]string{"HOME": at("home")}, at("home", ".config", "sesame", "config.yaml")},
		{"relative xdg is ignored", map[string]string{"XDG_CONFIG_HOME": "xdg", "HOME": at("home")}, at("home", ".config", "sesame", "config.yaml")},
		{"userprofile", map[string]string{"USERPROFILE": at("user")}, at("user", ".config", "sesame", "config.yaml")},
		{"sesame_config wins", map[string]string{"SESAME_CONFIG": at("s.yaml"), "XDG_CONFIG_HOME": at("xdg")}, at("s.yaml")},
		{"nothing", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DefaultPath(envOf(tt.env)); got != tt.want {
				t.Errorf("DefaultPath = %q, want %q", got, tt.want)
			}
		})
	}
	if got := DefaultPath(nil); got != "" {
		t.Errorf("DefaultPath(nil) = %q", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope", "config.yaml")
	c := mustLoad(t, path, nil)
	if c.Path != path || c.Current != "" || len(c.ProfileNames()) != 0 || len(c.Warnings) != 0 {
		t.Errorf("want an empty config at %s, got %+v", path, c)
	}
	p, err := c.Profile("work")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, Profile{Name: "work"}) {
		t.Errorf("Profile = %+v, want only Name set", p)
	}
}

func TestLoadDefaultPath(t *testing.T) {
	xdg := t.TempDir()
	if err := os.MkdirAll(filepath.Join(xdg, "sesame"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(xdg, "sesame", "config.yaml"), []byte("current: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, "", map[string]string{"XDG_CONFIG_HOME": xdg})
	if c.Current != "x" || c.Path != filepath.Join(xdg, "sesame", "config.yaml") {
		t.Errorf("got Current %q Path %q", c.Current, c.Path)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		// file:line:column, then the line itself: the line at fault, not
		// the one yaml.v3 names (where the enclosing block began).
		{"syntax", "profiles:\n  work:\n issuer: [\n", []string{":3:2: invalid YAML: did not find expected key\n  3 |  issuer: ["}},
		{"tab indent", "profiles:\n\twork: {}\n", []string{":2:1: invalid YAML: a tab character", "\n  2 | \twork: {}"}},
		{"mapping in a value", "profiles:\n  work:\n    issuer: a: b\n", []string{":3:14: invalid YAML: mapping values are not allowed", "  3 |     issuer: a: b"}},
		{"unclosed quote", "profiles:\n  work:\n    issuer: \"x\n    client_id: y\n", []string{":3:13: invalid YAML"}},
		{"wrong type", "profiles:\n  work:\n    port: abc\n", []string{`:3:11: profile "work": port: want a whole number, got "abc"`, "  3 |     port: abc"}},
		{"list for a string", "profiles:\n  work:\n    issuer: [a]\n", []string{`:3:13: profile "work": issuer: want a string, got a list`}},
		{"not a mapping", "- a\n", []string{":1:1: the file must be a mapping"}},
		{"duplicate profile", "profiles:\n  a: {}\n  a: {}\n", []string{":3:3: ", "already defined"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.text)
			_, err := Load(path, nil)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadEmptyAndCommentOnly(t *testing.T) {
	for _, text := range []string{"", "# nothing yet\n", "---\n", "profiles:\n"} {
		c := mustLoad(t, writeFile(t, text), nil)
		if len(c.ProfileNames()) != 0 || c.Current != "" {
			t.Errorf("%q: want empty config, got %+v", text, c)
		}
	}
}

func TestProfileName(t *testing.T) {
	tests := []struct {
		name, explicit, env, current, want string
	}{
		{"explicit wins", "flag", "env", "cur", "flag"},
		{"env over current", "", "env", "cur", "env"},
		{"current", "", "", "cur", "cur"},
		{"default", "", "", "", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := ""
			if tt.current != "" {
				text = "current: " + tt.current + "\n"
			}
			c := mustLoad(t, writeFile(t, text), map[string]string{"SESAME_PROFILE": tt.env})
			if got := c.ProfileName(tt.explicit); got != tt.want {
				t.Errorf("ProfileName(%q) = %q, want %q", tt.explicit, got, tt.want)
			}
		})
	}
}

const sample = `current: work
profiles:
  work:
    issuer: https://tenant.logto.app/oidc
    client_id: abc123
    scopes: [openid, profile, email, offline_access, "urn:logto:scope:organizations"]
    resources:
      - https://api.example.com
    params: {login_hint: alice@example.com, kc_IdpHint: Corp}
    storage: file
    port: 8765
  Home.Lab:
    issuer: http://127.0.0.1:5556/dex
`

func TestProfileFromFile(t *testing.T) {
	c := mustLoad(t, writeFile(t, sample), nil)
	if got, want := c.ProfileNames(), []string{"Home.Lab", "work"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ProfileNames = %q, want %q", got, want)
	}
	p, err := c.Profile("work")
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{
		Name:      "work",
		Issuer:    "https://tenant.logto.app/oidc",
		ClientID:  "abc123",
		Scopes:    []string{"openid", "profile", "email", "offline_access", "urn:logto:scope:organizations"},
		Resources: []string{"https://api.example.com"},
		Params:    map[string]string{"login_hint": "alice@example.com", "kc_IdpHint": "Corp"},
		Storage:   "file",
		Port:      8765,
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Profile =\n%+v\nwant\n%+v", p, want)
	}
	if p, _ := c.Profile("Home.Lab"); p.Issuer != "http://127.0.0.1:5556/dex" {
		t.Errorf("case and dots in profile names must survive, got %+v", p)
	}
	// The caller owns what it gets back.
	p.Scopes[0] = "changed"
	p.Params["x"] = "y"
	if again, _ := c.Profile("work"); again.Scopes[0] != "openid" || len(again.Params) != 2 {
		t.Errorf("Profile shares state with the config: %+v", again)
	}
}

func TestProfileEnvOverrides(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want func(*Profile)
	}{
		{"file only", nil, func(*Profile) {}},
		{"issuer", map[string]string{"SESAME_ISSUER": "https://other"}, func(p *Profile) { p.Issuer = "https://other" }},
		{"empty var is unset", map[string]string{"SESAME_ISSUER": ""}, func(*Profile) {}},
		{"scopes spaces", map[string]string{"SESAME_SCOPES": "openid  email"}, func(p *Profile) { p.Scopes = []string{"openid", "email"} }},
		{"scopes commas", map[string]string{"SESAME_SCOPES": "openid,email, profile"}, func(p *Profile) { p.Scopes = []string{"openid", "email", "profile"} }},
		{"resources", map[string]string{"SESAME_RESOURCES": "https://a https://b"}, func(p *Profile) { p.Resources = []string{"https://a", "https://b"} }},
		{"params replace", map[string]string{"SESAME_PARAMS": "prompt=login&acr_values=a+b"}, func(p *Profile) {
			p.Params = map[string]string{"prompt": "login", "acr_values": "a b"}
		}},
		{"port", map[string]string{"SESAME_PORT": "9000"}, func(p *Profile) { p.Port = 9000 }},
		{"storage", map[string]string{"SESAME_STORAGE": "keychain"}, func(p *Profile) { p.Storage = "keychain" }},
		{"other fields untouched", map[string]string{"SESAME_TOKEN_URL": "https://t"}, func(p *Profile) { p.TokenURL = "https://t" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, writeFile(t, sample), tt.env)
			got, err := c.Profile("work")
			if err != nil {
				t.Fatal(err)
			}
			want, _ := mustLoad(t, writeFile(t, sample), nil).Profile("work")
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestProfileEnvErrors(t *testing.T) {
	for _, env := range []map[string]string{
		{"SESAME_PORT": "eighty"},
		{"SESAME_PARAMS": "a=1&a=2"},
		{"SESAME_PARAMS": "a=%zz"},
	} {
		c := mustLoad(t, "", env)
		if _, err := c.Profile("x"); err == nil {
			t.Errorf("%v: want an error", env)
		}
	}
}

// Every file key must have its SESAME_ variable, named after the key.
func TestEnvCoversEveryKey(t *testing.T) {
	for _, key := range profileKeys() {
		f, _ := fieldFor(key)
		value := map[reflect.Kind]string{reflect.Int: "1", reflect.Bool: "true", reflect.Slice: "a", reflect.Map: "a=b"}[f.Type.Kind()]
		if value == "" {
			value = "v"
		}
		c := mustLoad(t, "", map[string]string{"SESAME_" + strings.ToUpper(key): value})
		p, err := c.Profile("x")
		if err != nil {
			t.Fatal(err)
		}
		if reflect.ValueOf(p).FieldByIndex(f.Index).IsZero() {
			t.Errorf("SESAME_%s does not set %s", strings.ToUpper(key), f.Name)
		}
	}
}

func TestWarnings(t *testing.T) {
	path := writeFile(t, `curent: work
issuer: https://x
profiles:
  work:
    clientid: abc
    Scope: [openid]
    ClientId: x
    <<: {port: 1}
    flavour: x
  empty:
`)
	c := mustLoad(t, path, nil)
	want := []string{
		path + `:1: unknown key "curent" (did you mean "current"?)`,
		path + `:2: unknown key "issuer" (profile settings go under profiles.<name>)`,
		path + `:5: profile "work": unknown key "clientid" (did you mean "client_id"?)`,
		path + `:6: profile "work": unknown key "Scope" (did you mean "scopes"?)`,
		path + `:7: profile "work": unknown key "ClientId" (did you mean "client_id"?)`,
		path + `:9: profile "work": unknown key "flavour"`,
	}
	if !reflect.DeepEqual(c.Warnings, want) {
		t.Errorf("Warnings =\n%s\nwant\n%s", strings.Join(c.Warnings, "\n"), strings.Join(want, "\n"))
	}
	if p, _ := c.Profile("work"); p.Port != 1 {
		t.Errorf("merge keys should apply, got port %d", p.Port)
	}
}

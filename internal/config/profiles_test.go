package config

import (
	"reflect"
	"strings"
	"testing"
)

// Select says what chose the profile; Check accepts a profile of the file
// and "default" (which runs from SESAME_* variables and flags alone), and
// names the known profiles otherwise.
func TestSelectAndCheck(t *testing.T) {
	path := writeFile(t, "current: work\nprofiles:\n  work: {}\n  home: {}\n")
	for _, tt := range []struct {
		explicit string
		env      map[string]string
		want     Selection
		err      string
	}{
		{"", nil, Selection{"work", Origin{Kind: OriginFile, Name: "current", Line: 1}}, ""},
		{"home", nil, Selection{"home", Origin{Kind: OriginFlag, Name: "--profile"}}, ""},
		{"", map[string]string{"SESAME_PROFILE": "hmoe"}, Selection{"hmoe", Origin{Kind: OriginEnv, Name: "SESAME_PROFILE"}},
			`no profile "hmoe" (SESAME_PROFILE) in the config file ` + path + `; known profiles: home, work`},
		{"default", nil, Selection{"default", Origin{Kind: OriginFlag, Name: "--profile"}}, ""},
	} {
		c := mustLoad(t, path, tt.env)
		sel := c.Select(tt.explicit)
		if sel != tt.want || sel.Name != c.ProfileName(tt.explicit) {
			t.Errorf("Select(%q) = %+v, want %+v", tt.explicit, sel, tt.want)
		}
		err := c.Check(sel)
		if (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
			t.Errorf("Check(%+v) = %v, want %q", sel, err, tt.err)
		}
	}
	if err := mustLoad(t, path, nil).CheckExists(Selection{Name: "default"}); err == nil {
		t.Error("CheckExists accepted a default profile the file lacks")
	}
	missing := mustLoad(t, path+".none", nil)
	if err := missing.Check(missing.Select("x")); err == nil || !strings.Contains(err.Error(), "does not exist yet") {
		t.Errorf("no file: %v", err)
	}
	var ue *UnknownProfileError
	if err := missing.Check(missing.Select("x")); !asUnknown(err, &ue) || !strings.Contains(ue.Hint(), "sesame init ISSUER --name x") {
		t.Errorf("hint: %v", err)
	}
}

func asUnknown(err error, target **UnknownProfileError) bool {
	e, ok := err.(*UnknownProfileError)
	*target = e
	return ok
}

// Origins names, per key, the variable that set it or the file line.
func TestOrigins(t *testing.T) {
	path := writeFile(t, "base: &b\n  scopes: [openid]\nprofiles:\n  work:\n    <<: *b\n    issuer: https://file.example\n    client_id: app\n")
	c := mustLoad(t, path, map[string]string{"SESAME_CLIENT_ID": "env-app", "SESAME_PORT": "8765"})
	got := c.Origins("work")
	want := map[string]Origin{
		"issuer":    {Kind: OriginFile, Line: 6},
		"client_id": {Kind: OriginEnv, Name: "SESAME_CLIENT_ID"},
		"port":      {Kind: OriginEnv, Name: "SESAME_PORT"},
		"scopes":    {Kind: OriginFile}, // through the merge: no line of its own
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Origins = %v, want %v", got, want)
	}
	for o, s := range map[Origin]string{got["issuer"]: "file line 6", got["client_id"]: "env SESAME_CLIENT_ID", {Kind: OriginDefault}: "default"} {
		if o.String() != s {
			t.Errorf("%+v prints %q, want %q", o, o.String(), s)
		}
	}
}

// A URL without a scheme, or with http for a host elsewhere, suggests the
// one that was probably meant.
func TestSchemeSuggestions(t *testing.T) {
	for raw, want := range map[string]string{
		"idp.example.com":             `"idp.example.com" is not an absolute http(s) URL: did you mean https://idp.example.com?`,
		"idp.example.com/oidc":        "did you mean https://idp.example.com/oidc?",
		"http://idp.example.com/oidc": "must use https (http is allowed only for localhost and loopback addresses): did you mean https://idp.example.com/oidc?",
		"localhost:8080":              "did you mean http://localhost:8080?",
		"127.0.0.1:9000/x":            "did you mean http://127.0.0.1:9000/x?",
		"ftp://idp.example.com":       `"ftp://idp.example.com" is not an absolute http(s) URL`,
		"nodots":                      `"nodots" is not an absolute http(s) URL`,
	} {
		err := CheckIssuer(raw)
		if err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("CheckIssuer(%q) = %v, want ...%s", raw, err, want)
		}
		if strings.Contains(want, "did you mean") != strings.Contains(err.Error(), "did you mean") {
			t.Errorf("CheckIssuer(%q) = %v", raw, err)
		}
	}
	if err := (Profile{TokenURL: "token.example.com/t"}).Validate(); err == nil || !strings.Contains(err.Error(), "token_url: \"token.example.com/t\" is not an absolute http(s) URL: did you mean https://token.example.com/t?") {
		t.Errorf("Validate: %v", err)
	}
}

// StandardPath is DefaultPath without SESAME_CONFIG; EnvVars follows the
// struct tags.
func TestStandardPathAndEnvVars(t *testing.T) {
	env := map[string]string{"SESAME_CONFIG": "/x.yaml", "XDG_CONFIG_HOME": "/xdg"}
	get := func(k string) string { return env[k] }
	if DefaultPath(get) != "/x.yaml" || StandardPath(get) != "/xdg/sesame/config.yaml" {
		t.Errorf("DefaultPath %q StandardPath %q", DefaultPath(get), StandardPath(get))
	}
	vars := EnvVars()
	if len(vars) != len(profileKeys()) {
		t.Fatalf("EnvVars %v", vars)
	}
	for _, v := range vars {
		if v.Name != envVar(v.Key) {
			t.Errorf("%+v", v)
		}
		if v.Key == "scopes" && v.Format == "" || v.Key == "issuer" && v.Format != "" {
			t.Errorf("format of %+v", v)
		}
	}
}

package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// profile show prints every setting a profile has, in the file's order,
// and leaves out unset ones; the keys come from the Profile struct tags.
func TestProfileShowEveryKey(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	path := filepath.Join(h.home, "config", "sesame", "config.yaml")
	set := map[string]any{
		"issuer": "https://idp.example", "client_id": "app", "scopes": []string{"openid", "email"},
		"resources": []string{"https://api.example"}, "params": map[string]string{"prompt": "login", "acr_values": "a b"},
		"storage": "file", "port": 8765, "broker": "https://broker.example",
		"auth_url": "https://idp.example/auth", "token_url": "https://idp.example/token",
		"userinfo_url": "https://idp.example/userinfo", "revocation_url": "https://idp.example/revoke",
		"introspection_url": "https://idp.example/introspect", "end_session_url": "https://idp.example/logout",
		"jwks_url": "https://idp.example/jwks", "device_url": "https://idp.example/device",
	}
	if err := config.SaveProfile(path, "all", set); err != nil {
		t.Fatal(err)
	}
	if err := config.SaveProfile(path, "few", map[string]any{"client_id": "app"}); err != nil {
		t.Fatal(err)
	}

	code, out, errb := h.run(testidp.Approve, "profile", "show", "all")
	rows := [][2]string{
		{"issuer", "https://idp.example"}, {"client_id", "app"}, {"scopes", "openid email"},
		{"resources", "https://api.example"}, {"params", "acr_values=a b prompt=login"},
		{"storage", "file"}, {"port", "8765"}, {"broker", "https://broker.example"},
		{"auth_url", "https://idp.example/auth"}, {"token_url", "https://idp.example/token"},
		{"userinfo_url", "https://idp.example/userinfo"}, {"revocation_url", "https://idp.example/revoke"},
		{"introspection_url", "https://idp.example/introspect"}, {"end_session_url", "https://idp.example/logout"},
		{"jwks_url", "https://idp.example/jwks"}, {"device_url", "https://idp.example/device"},
	}
	want := "profile all (" + path + ")\n"
	for i, r := range rows {
		// Each value says where it came from: here the file, and its line.
		want += fmt.Sprintf("  %-18s %-32s(file line %d)\n", r[0]+":", r[1], i+3)
	}
	if code != 0 || out != want {
		t.Errorf("show: %d %s\ngot:\n%s\nwant:\n%s", code, errb, out, want)
	}

	_, out, _ = h.run(testidp.Approve, "profile", "show", "all", "--json")
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	wantJSON := map[string]any{"name": "all", "config": path}
	b, _ := json.Marshal(set)
	json.Unmarshal(b, &wantJSON)
	origins := map[string]any{"name": "argument", "config": "default"}
	for i, r := range rows {
		origins[r[0]] = fmt.Sprintf("file line %d", i+3)
	}
	wantJSON["origins"] = origins
	if !reflect.DeepEqual(got, wantJSON) {
		t.Errorf("show --json:\n got %v\nwant %v", got, wantJSON)
	}

	if _, out, _ = h.run(testidp.Approve, "profile", "show", "few"); out != "profile few ("+path+")\n  client_id:         app  (file line 20)\n" {
		t.Errorf("unset keys shown:\n%s", out)
	}
	_, out, _ = h.run(testidp.Approve, "profile", "show", "few", "--json")
	var few map[string]any
	if err := json.Unmarshal([]byte(out), &few); err != nil || len(few) != 4 || few["client_id"] != "app" {
		t.Errorf("unset keys in JSON: %s", out)
	}
}

// TestProfileShowOrigins: a SESAME_* variable overrides the file without
// showing in it, so profile show names it; the header says what chose the
// profile and the file when it was not the command line.
func TestProfileShowOrigins(t *testing.T) {
	h := newHarness(t, testidp.Options{})
	path := filepath.Join(h.home, "elsewhere.yaml")
	if err := config.SaveProfile(path, "work", map[string]any{"issuer": "https://file.example", "client_id": "app"}); err != nil {
		t.Fatal(err)
	}
	h.env["SESAME_CONFIG"] = path
	h.env["SESAME_PROFILE"] = "work"
	h.env["SESAME_ISSUER"] = "https://env.example"
	h.env["SESAME_SCOPES"] = "openid email"

	code, out, errb := h.run(testidp.Approve, "profile", "show")
	want := "profile work (" + path + "); profile from env SESAME_PROFILE, file from env SESAME_CONFIG\n" +
		"  issuer:            https://env.example  (env SESAME_ISSUER)\n" +
		"  client_id:         app                  (file line 4)\n" +
		"  scopes:            openid email         (env SESAME_SCOPES)\n"
	if code != 0 || out != want {
		t.Errorf("show: %d %s\ngot:\n%s\nwant:\n%s", code, errb, out, want)
	}
	_, out, _ = h.run(testidp.Approve, "profile", "show", "--json", "--profile", "work", "--config", path)
	var got struct {
		Issuer  string            `json:"issuer"`
		Origins map[string]string `json:"origins"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	wantOrigins := map[string]string{"name": "flag --profile", "config": "flag --config", "issuer": "env SESAME_ISSUER",
		"client_id": "file line 4", "scopes": "env SESAME_SCOPES"}
	if got.Issuer != "https://env.example" || !reflect.DeepEqual(got.Origins, wantOrigins) {
		t.Errorf("show --json: %s", out)
	}
}

package cli

import (
	"encoding/json"
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
	want := "profile all (" + path + ")\n" +
		"  issuer:            https://idp.example\n" +
		"  client_id:         app\n" +
		"  scopes:            openid email\n" +
		"  resources:         https://api.example\n" +
		"  params:            acr_values=a b prompt=login\n" +
		"  storage:           file\n" +
		"  port:              8765\n" +
		"  broker:            https://broker.example\n" +
		"  auth_url:          https://idp.example/auth\n" +
		"  token_url:         https://idp.example/token\n" +
		"  userinfo_url:      https://idp.example/userinfo\n" +
		"  revocation_url:    https://idp.example/revoke\n" +
		"  introspection_url: https://idp.example/introspect\n" +
		"  end_session_url:   https://idp.example/logout\n" +
		"  jwks_url:          https://idp.example/jwks\n" +
		"  device_url:        https://idp.example/device\n"
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
	if !reflect.DeepEqual(got, wantJSON) {
		t.Errorf("show --json:\n got %v\nwant %v", got, wantJSON)
	}

	if _, out, _ = h.run(testidp.Approve, "profile", "show", "few"); out != "profile few ("+path+")\n  client_id:         app\n" {
		t.Errorf("unset keys shown:\n%s", out)
	}
	_, out, _ = h.run(testidp.Approve, "profile", "show", "few", "--json")
	var few map[string]any
	if err := json.Unmarshal([]byte(out), &few); err != nil || len(few) != 3 || few["client_id"] != "app" {
		t.Errorf("unset keys in JSON: %s", out)
	}
}

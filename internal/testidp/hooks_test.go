package testidp

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestEditDiscoveryAndIntercept(t *testing.T) {
	p := New(t, Options{})
	get := func(path string) (int, map[string]any) {
		t.Helper()
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(p.Endpoint(path))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var md map[string]any
		json.NewDecoder(resp.Body).Decode(&md)
		return resp.StatusCode, md
	}
	p.EditDiscovery(func(md map[string]any) { md["token_endpoint"] = "http://idp.example/token" })
	if _, md := get("/.well-known/openid-configuration"); md["token_endpoint"] != "http://idp.example/token" || md["issuer"] != p.Issuer {
		t.Errorf("edited document %v", md)
	}
	p.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/.well-known/openid-configuration" {
			return false
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
		return true
	})
	if status, _ := get("/.well-known/openid-configuration"); status != http.StatusFound {
		t.Errorf("intercepted: %d", status)
	}
	if status, _ := get("/jwks"); status != http.StatusOK {
		t.Errorf("not intercepted: %d", status)
	}
}

package verify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/verify"
)

func TestActive(t *testing.T) {
	b, v, clk, _ := setup(t)
	tok := b.token(t, b.claims(clk.Now(), ""))
	for _, want := range []bool{true, false} {
		b.set(func(b *broker) {
			b.introspect = func(w http.ResponseWriter, r *http.Request) {
				if r.PostFormValue("token") != tok || r.PostFormValue("token_type_hint") != "access_token" {
					http.Error(w, "wrong form", http.StatusBadRequest)
					return
				}
				if want {
					w.Write([]byte(`{"active":true,"sub":"alice","sid":"s-1"}`))
				} else {
					w.Write([]byte(`{"active":false}`))
				}
			}
		})
		got, err := v.Active(context.Background(), tok)
		if err != nil || got != want {
			t.Errorf("got %v, %v; want %v", got, err, want)
		}
	}
}

// Active fails closed: whatever keeps it from an answer is an error,
// never "inactive" nor "active".
func TestActiveFailsClosed(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for name, tc := range map[string]struct {
		meta       func(b *broker, m map[string]any)
		introspect http.HandlerFunc
		msg        string
	}{
		"network error": {meta: func(b *broker, m map[string]any) { m["introspection_endpoint"] = closed.URL + "/introspect" }, msg: "connect"},
		"500": {introspect: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", http.StatusInternalServerError) },
			msg: "500"},
		"not JSON":        {introspect: func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("yes")) }, msg: "not JSON"},
		"no active":       {introspect: func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"sub":"alice"}`)) }, msg: `"active"`},
		"active a string": {introspect: func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"active":"true"}`)) }, msg: `"active"`},
		"over 1 MiB": {introspect: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"active":true,"x":"` + strings.Repeat("x", 1<<20) + `"}`))
		}, msg: "1 MiB"},
		"no endpoint":  {meta: func(b *broker, m map[string]any) { delete(m, "introspection_endpoint") }, msg: "no introspection_endpoint"},
		"no discovery": {meta: func(b *broker, m map[string]any) { m["issuer"] = "https://other.example.com" }, msg: "discovery document"},
	} {
		t.Run(name, func(t *testing.T) {
			b, v, clk, _ := setup(t)
			tok := b.token(t, b.claims(clk.Now(), ""))
			b.set(func(b *broker) {
				if tc.meta != nil {
					b.meta = func(m map[string]any) { tc.meta(b, m) }
				}
				b.introspect = tc.introspect
			})
			active, err := v.Active(context.Background(), tok)
			if active || !errors.Is(err, verify.ErrUnavailable) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v, %v; want unavailable, saying %q", active, err, tc.msg)
			}
			noSecrets(t, err.Error(), tok)
		})
	}
}

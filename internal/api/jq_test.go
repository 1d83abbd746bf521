package api

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestJQ(t *testing.T) {
	tests := []struct {
		name, body, expr string
		status           int
		want             string
		wantErr          string // in the error; "" for none
	}{
		{name: "strings raw", body: `[{"name":"a b"},{"name":"c\"d"}]`, expr: ".[].name", want: "a b\nc\"d\n"},
		{name: "objects compact", body: `{"a":{"x": 1, "y": [true, null]}}`, expr: ".a", want: `{"x":1,"y":[true,null]}` + "\n"},
		{name: "numbers exact", body: `{"id":12345678901234567890,"f":1.50}`, expr: ".id, .f", want: "12345678901234567890\n1.50\n"},
		{name: "no HTML escaping", body: `{"a":"<&>"}`, expr: ".", want: `{"a":"<&>"}` + "\n"},
		{name: "several values in the body", body: `{"a":1} {"a":2}`, expr: ".a", want: "1\n2\n"},
		{name: "empty output", body: `[]`, expr: ".[]", want: ""},
		{name: "halt stops quietly", body: `[1,2]`, expr: ".[0], halt, .[1]", want: "1\n"},
		{name: "not JSON", body: `<html>oops</html>`, expr: ".", wantErr: "the response is not JSON"},
		{name: "a runtime error", body: `{"a":1}`, expr: ".a[0]", wantErr: "--jq: "},
		{name: "error with a value", body: `{}`, expr: `error("bad\u001b[2J")`, wantErr: `bad\x1b[2J`},
		{name: "a status other than 2xx prints the body unfiltered", body: `{"message":"nope"}`, expr: ".[]", status: 404,
			want: `{"message":"nope"}`, wantErr: "HTTP 404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, _ hit) {
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
				io.WriteString(w, tt.body)
			})
			res := run(t, Options{Target: srv.URL, JQ: tt.expr}, nil)
			if res.stdout != tt.want {
				t.Errorf("stdout %q, want %q", res.stdout, tt.want)
			}
			if tt.wantErr == "" && res.err != nil || tt.wantErr != "" && (res.err == nil || !strings.Contains(res.err.Error(), tt.wantErr)) {
				t.Errorf("err %v, want %q", res.err, tt.wantErr)
			}
			if res.err != nil && strings.ContainsRune(res.err.Error(), 0x1b) {
				t.Errorf("the error carries a raw ESC: %q", res.err)
			}
		})
	}
}

func TestJQCompile(t *testing.T) {
	for _, expr := range []string{".[", "foo(", ".a | undefined_function"} {
		_, err := compileJQ(expr)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--jq") {
			t.Errorf("compileJQ(%q): %v", expr, err)
		}
	}
}

// TestJQTooLarge: --jq reads at most maxJQBody, then says so.
func TestJQTooLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB")
	}
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, _ hit) {
		chunk := strings.Repeat(" ", 1<<20)
		io.WriteString(w, "[")
		for range maxJQBody >> 20 {
			io.WriteString(w, chunk)
		}
		io.WriteString(w, "]")
	})
	res := run(t, Options{Target: srv.URL, JQ: "."}, nil)
	if res.err == nil || !strings.Contains(res.err.Error(), "larger than 64 MiB") || res.stdout != "" {
		t.Errorf("err %v, stdout %d bytes", res.err, len(res.stdout))
	}
}

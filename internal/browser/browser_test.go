package browser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func waitFile(t *testing.T, path string) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return string(b)
		}
	}
	t.Fatalf("%s was not written", path)
	return ""
}

func TestBROWSERIsHonoured(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "open")
	os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s' \"$1\" > \""+dir+"/$2\"\n"), 0o755)
	const u = "https://idp.example/auth?a=1&b=2"
	env := map[string]string{"BROWSER": "no-such-browser-here:" + script + " %s seen"}
	if err := (System{Getenv: func(k string) string { return env[k] }}).Open(u); err != nil {
		t.Fatal(err)
	}
	if got := waitFile(t, filepath.Join(dir, "seen")); got != u {
		t.Errorf("BROWSER got %q", got)
	}
	env["BROWSER"] = "no-such-browser-here"
	if err := (System{Getenv: func(k string) string { return env[k] }}).Open(u); err == nil || !strings.Contains(err.Error(), "$BROWSER") {
		t.Errorf("err %v", err)
	}
}

func TestHeadless(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, true},
		{map[string]string{"DISPLAY": ":0"}, false},
		{map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, false},
		{map[string]string{"BROWSER": "w3m"}, false},
		{map[string]string{"WSL_DISTRO_NAME": "Debian"}, false},
	} {
		if got := Headless(func(k string) string { return tt.env[k] }); got != tt.want && !IsWSL(func(string) string { return "" }) {
			t.Errorf("%v: %v", tt.env, got)
		}
	}
}

func TestOpenRefusesAllButWebURLs(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "open")
	os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s' \"$1\" >> \""+dir+"/opened\"\n"), 0o755)
	env := map[string]string{"BROWSER": script}
	s := System{Getenv: func(k string) string { return env[k] }}
	for _, u := range []string{
		"file:///etc/passwd",
		"javascript:alert(document.cookie)",
		"JavaScript:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"com.example.app:/callback",
		"smb://evil.example/share",
		"//evil.example/auth",
		"http:///no-host",
		"-https://idp.example/auth",
		"https://idp.example/a b",
		"https://idp.example/auth?x=\"&calc.exe",
		"https://idp.example/auth|calc",
		"https://idp.example/\x1b]52;c;AAAA\x07",
		"",
	} {
		if err := s.Open(u); err == nil || !strings.Contains(err.Error(), "sesame") {
			t.Errorf("Open(%q) = %v, want a refusal", u, err)
		}
	}
	for _, u := range []string{"https://idp.example/auth?a=1&b=2%20c", "http://127.0.0.1:8765/start?t=abc"} {
		if err := CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q): %v", u, err)
		}
	}
	time.Sleep(100 * time.Millisecond) // a wrongly started script would have written by now
	if b, err := os.ReadFile(filepath.Join(dir, "opened")); err == nil {
		t.Errorf("the browser was started with %q", b)
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolish(t *testing.T) {
	in := ".TH \"X\" \"1\" \"\" \"sesame\" \"sesame manual\"\n" +
		".SH OPTIONS\n\\fB--issuer\\fP=\"\"\n\tissuer URL\n\n.PP\n\\fB-h\\fP, \\fB--help\\fP[=false]\n\thelp for x\n" +
		"each line ✓ (fine) \\- already escaped\n"
	want := ".TH \"X\" \"1\" \"\" \"sesame\" \"sesame manual\"\n" +
		".SH OPTIONS\n.TP\n\\fB\\-\\-issuer\\fP=\"\"\nissuer URL\n\n.TP\n\\fB\\-h\\fP, \\fB\\-\\-help\\fP[=false]\nhelp for x\n" +
		"each line \\[u2713] (fine) \\- already escaped\n"
	got := polish([]byte(in))
	if string(got) != want {
		t.Errorf("polish:\n%s\nwant:\n%s", got, want)
	}
	if defs := string(fallbacks(got)); defs != ".if !c\\[u2713] .char \\[u2713] +\n" {
		t.Errorf("fallbacks = %q", defs)
	}
}

func TestMarkdownLiteral(t *testing.T) {
	got := markdownLiteral("SESAME_BROKER_<KEY> *x* `y` 1.")
	want := `SESAME\_BROKER\_\<KEY\> \*x\* \` + "`y\\`" + ` 1\.`
	if got != want {
		t.Errorf("markdownLiteral = %s, want %s", got, want)
	}
}

// TestReproducible runs the generator twice and wants the same files, with
// no date, no cobra footer and no stale file left behind.
func TestReproducible(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	stale := filepath.Join(b, "man", "sesame-gone.1")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{a, b} {
		if err := run(dir); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale page not removed: %v", err)
	}
	for _, sub := range []string{"completions", "man"} {
		entries, err := os.ReadDir(filepath.Join(a, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			x, _ := os.ReadFile(filepath.Join(a, sub, e.Name()))
			y, err := os.ReadFile(filepath.Join(b, sub, e.Name()))
			if err != nil || string(x) != string(y) {
				t.Errorf("%s/%s differs between runs (%v)", sub, e.Name(), err)
			}
			if s := string(x); strings.Contains(s, "Auto generated") || strings.Contains(s, "1970") {
				t.Errorf("%s/%s has a footer or a date", sub, e.Name())
			}
		}
	}
	if _, err := os.Stat(filepath.Join(a, "man", "sesame-login.1")); err != nil {
		t.Error(err)
	}
}

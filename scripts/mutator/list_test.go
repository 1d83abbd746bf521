package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	list := `# a comment

mutation first-one
why      a reason
pkg      ./internal/a ./internal/b
run      ^TestA$/^sub$
timeout  30s
file     internal/a/a.go
find     \tif ok {\n\t\treturn\n\t}
into     \tif false {\n\t\treturn\n\t}
file     internal/b/b.go
find     x := 1\s
into

mutation second
why   another
pkg   ./internal/a
run   .
file  internal/a/a.go
find  a\\b
into  c
`
	muts, err := Parse(strings.NewReader(list), "list")
	if err != nil {
		t.Fatal(err)
	}
	if len(muts) != 2 {
		t.Fatalf("%d mutations", len(muts))
	}
	m := muts[0]
	if m.Name != "first-one" || m.Why != "a reason" || strings.Join(m.Pkgs, ",") != "./internal/a,./internal/b" ||
		m.Run != "^TestA$/^sub$" || m.Timeout != 30*time.Second || m.Line != 3 {
		t.Errorf("%+v", m)
	}
	want := []Edit{
		{File: "internal/a/a.go", Find: "\tif ok {\n\t\treturn\n\t}", Into: "\tif false {\n\t\treturn\n\t}", Line: 9},
		{File: "internal/b/b.go", Find: "x := 1 ", Into: "", Line: 12},
	}
	if len(m.Edits) != 2 || m.Edits[0] != want[0] || m.Edits[1] != want[1] {
		t.Errorf("edits %+v", m.Edits)
	}
	if got := strings.Join(m.Files(), ","); got != "internal/a/a.go,internal/b/b.go" {
		t.Errorf("files %s", got)
	}
	if muts[1].Timeout != DefaultTimeout || muts[1].Edits[0].Find != `a\b` {
		t.Errorf("%+v", muts[1])
	}
}

func TestParseRefusesMalformedEntries(t *testing.T) {
	entry := func(lines ...string) string {
		return "mutation m\nwhy w\npkg ./p\nrun .\nfile f.go\n" + strings.Join(lines, "\n") + "\n"
	}
	tests := []struct{ name, list, want string }{
		{"no find", entry(), "no find/into pair"},
		{"find without into", entry("find a"), "find without a following into"},
		{"into without find", entry("find a", "into b", "into c"), "into without a find"},
		{"find then another key", entry("find a", "run x", "into b"), "needs an into line right after it"},
		{"same text", entry("find a", "into a"), "changes nothing"},
		{"unknown escape", entry(`find a\d`, "into b"), `unknown escape \d`},
		{"lone backslash", entry(`find a\`, "into b"), "lone"},
		{"empty find", entry("find", "into b"), "find is empty"},
		{"unknown key", entry("replace a"), `unknown key "replace"`},
		{"bad name", "mutation Bad_Name\n", "lower-case"},
		{"duplicate", entry("find a", "into b") + entry("find a", "into b"), "already defined on line 1"},
		{"key before mutation", "why w\n", "before the first mutation"},
		{"no why", "mutation m\npkg ./p\nrun .\nfile f\nfind a\ninto b\n", "no why line"},
		{"no pkg", "mutation m\nwhy w\nrun .\nfile f\nfind a\ninto b\n", "no pkg line"},
		{"no run", "mutation m\nwhy w\npkg ./p\nfile f\nfind a\ninto b\n", "no run line"},
		{"pkg pattern", "mutation m\nwhy w\npkg ./internal/...\nrun .\nfile f\nfind a\ninto b\n", "name a package directory"},
		{"pkg import path", "mutation m\nwhy w\npkg github.com/x/y\nrun .\nfile f\nfind a\ninto b\n", "name a package directory"},
		{"bad regexp", "mutation m\nwhy w\npkg ./p\nrun (\nfile f\nfind a\ninto b\n", "not a regular expression"},
		{"bad timeout", "mutation m\nwhy w\npkg ./p\nrun .\ntimeout soon\nfile f\nfind a\ninto b\n", "not a positive duration"},
		{"find before file", "mutation m\nwhy w\npkg ./p\nrun .\nfind a\ninto b\n", "find before a file line"},
		{"file outside", "mutation m\nwhy w\npkg ./p\nrun .\nfile ../x.go\nfind a\ninto b\n", "inside the repository"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.list), "list")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "list:") {
				t.Errorf("no line number: %v", err)
			}
		})
	}
}

func TestApply(t *testing.T) {
	files := map[string]string{
		"a.go": "package a\n\nfunc f() bool { return check() }\nfunc g() bool { return check() }\n",
		"b.go": "package b\n",
	}
	read := func(p string) ([]byte, error) {
		s, ok := files[p]
		if !ok {
			return nil, os.ErrNotExist
		}
		return []byte(s), nil
	}
	m := &Mutation{Name: "m", Edits: []Edit{
		{File: "a.go", Find: "func f() bool { return check() }", Into: "func f() bool { return true }"},
		{File: "a.go", Find: "return check()", Into: "return false"}, // unique once the first edit is made
		{File: "b.go", Find: "package b", Into: "package b // changed"},
	}}
	out, err := m.Apply(read)
	if err != nil {
		t.Fatal(err)
	}
	if string(out["a.go"]) != "package a\n\nfunc f() bool { return true }\nfunc g() bool { return false }\n" || string(out["b.go"]) != "package b // changed\n" {
		t.Errorf("%q", out)
	}
	if files["a.go"] == string(out["a.go"]) {
		t.Error("the original changed")
	}

	for _, tt := range []struct {
		edit Edit
		want string
	}{
		{Edit{File: "a.go", Find: "return check()", Line: 7}, `"return check()" occurs 2 times, not once (list line 7)`},
		{Edit{File: "a.go", Find: "gone()\nand more"}, `"gone()…" occurs 0 times`},
		{Edit{File: "c.go", Find: "x"}, "c.go: file does not exist"},
	} {
		_, err := (&Mutation{Edits: []Edit{tt.edit}}).Apply(read)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err %v, want %q", err, tt.want)
		}
	}
}

func TestJudge(t *testing.T) {
	exitErr := runFalse(t)
	tests := []struct {
		name    string
		run     testRun
		outcome Outcome
		detail  string
	}{
		{"passed", testRun{output: "ok  \tx\t0.1s\n"}, Survived, "no selected test failed"},
		{"failed", testRun{err: exitErr, output: "--- FAIL: TestA (0.00s)\n    --- FAIL: TestA/sub (0.00s)\n        a_test.go:1: no\n--- FAIL: TestB (0.00s)\nFAIL\n"}, Caught, "TestA/sub"},
		{"timed out", testRun{err: exitErr, output: "panic: test timed out after 10s\n\trunning tests:\n\t\tTestHang (10s)\n"}, Caught, "TestHang (timed out)"},
		{"build failed", testRun{err: exitErr, output: "# x\n./a.go:1:1: undefined: y\nFAIL\tx [build failed]\n"}, Broken, "does not build"},
		{"go test could not run", testRun{err: errors.New("exec: go: not found")}, Failed, "not found"},
	}
	for _, tt := range tests {
		outcome, detail := judge(tt.run)
		if outcome != tt.outcome || !strings.Contains(detail, tt.detail) {
			t.Errorf("%s: %v %q, want %v %q", tt.name, outcome, detail, tt.outcome, tt.detail)
		}
	}
}

// runFalse returns the *exec.ExitError of a command that fails: the go
// command itself, asked for something that does not exist.
func runFalse(t *testing.T) error {
	t.Helper()
	r := goTest(t.Context(), t.TempDir(), []string{"./nothing-here"}, ".", time.Minute)
	if r.err == nil {
		t.Fatal("go test of nothing passed")
	}
	return r.err
}

func TestCopyTree(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	for p, s := range map[string]string{"a/b.go": "package a\n", "c.txt": "c", ".git/config": "x", "node_modules/m/i.js": "x"} {
		path := filepath.Join(src, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Not a git work tree: everything but .git and node_modules.
	n, err := copyTree(src, dst)
	if err != nil || n != 2 {
		t.Fatalf("copied %d files: %v", n, err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "a", "b.go")); err != nil || string(b) != "package a\n" {
		t.Errorf("%q %v", b, err)
	}
	for _, p := range []string{".git", "node_modules"} {
		if _, err := os.Stat(filepath.Join(dst, p)); err == nil {
			t.Errorf("%s was copied", p)
		}
	}
}

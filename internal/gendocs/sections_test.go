package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/cli"
)

// generated runs the generator into a temporary directory once per test
// and returns the man pages by file name.
func generated(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	if err := run(dir); err != nil {
		t.Fatal(err)
	}
	pages := map[string]string{}
	entries, err := os.ReadDir(filepath.Join(dir, "man"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, "man", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		pages[e.Name()] = string(b)
	}
	return pages
}

// section is the text of one .SH section of page, up to the next.
func section(page, name string) string {
	_, rest, ok := strings.Cut(page, "\n.SH "+name+"\n")
	if !ok {
		return ""
	}
	if i := strings.Index(rest, "\n.SH "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// Every page, sesame's and sesame-broker's, has the four sections, in
// man-pages(7) order, SEE ALSO last.
func TestEveryPageHasTheSections(t *testing.T) {
	for name, page := range generated(t) {
		last := -1
		for _, s := range []string{"EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO"} {
			i := strings.Index(page, "\n.SH "+s+"\n")
			if i < 0 || strings.TrimSpace(section(page, s)) == "" {
				t.Errorf("%s has no %s section", name, s)
				continue
			}
			if i < last {
				t.Errorf("%s: %s comes too early", name, s)
			}
			last = i
		}
	}
}

// TestExitStatusNamesEveryCode reads the Exit* constants of cmdutil, the
// one list of exit codes, and wants each on every sesame page: a code
// added there without a line in the --help text fails here.
func TestExitStatusNamesEveryCode(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join("..", "cmdutil", "errors.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, id := range vs.Names {
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(id.Name, "Exit") {
				codes = append(codes, lit.Value)
			}
		}
		return true
	})
	if len(codes) < 5 {
		t.Fatalf("found only the exit codes %v in cmdutil", codes)
	}
	for name, page := range generated(t) {
		if name == "sesame-broker.1" {
			continue
		}
		exit := section(page, "EXIT STATUS")
		for _, c := range codes {
			if !strings.Contains(exit, ".TP\n\\fB"+c+"\\fR\n") {
				t.Errorf("%s: EXIT STATUS lacks %s:\n%s", name, c, exit)
			}
		}
	}
}

// envLiteral is a SESAME_* variable named in a Go string.
var envLiteral = regexp.MustCompile(`"(SESAME_[A-Z0-9_]*[A-Z0-9])"`) // not a prefix such as "SESAME_BROKER_"

// TestEnvironmentNamesEverySesameVariable searches the source of both
// binaries for SESAME_* variables and wants each in the ENVIRONMENT
// section of its pages: the broker's on sesame-broker.1, the others on
// every page of sesame. The profile variables are built from the config
// struct tags (config.EnvVars), which the config package checks against
// applyEnv.
func TestEnvironmentNamesEverySesameVariable(t *testing.T) {
	seen := map[string]bool{}
	err := filepath.WalkDir(filepath.Join("..", ".."), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && slices.Contains([]string{"node_modules", ".git", "e2e", "bench", "testdata"}, d.Name()) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range envLiteral.FindAllStringSubmatch(string(b), -1) {
			seen[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SESAME_PROFILE", "SESAME_CONFIG", "SESAME_ISSUER", "SESAME_BROKER_CLIENT_SECRET"} {
		if !seen[want] {
			t.Fatalf("the source search found no %s: %v", want, seen)
		}
	}
	pages := generated(t)
	for v := range seen {
		for name, page := range pages {
			broker := strings.HasPrefix(v, "SESAME_BROKER_")
			if broker != (name == "sesame-broker.1") {
				continue
			}
			if !slices.Contains(envNames(section(page, "ENVIRONMENT")), v) {
				t.Errorf("%s: ENVIRONMENT lacks %s", name, v)
			}
		}
	}
}

// The files come from the functions that compute them, with the
// environment left as names.
func TestFilesNameTheRealPaths(t *testing.T) {
	page := generated(t)["sesame.1"]
	files := section(page, "FILES")
	for _, want := range []string{
		`\fI$XDG_CONFIG_HOME/sesame/config.yaml\fR`, `~/.config/sesame/config.yaml`,
		`\fI$XDG_STATE_HOME/sesame/tokens/\fR`, `\fI$XDG_STATE_HOME/sesame/locks/\fR`, `~/.local/state/sesame/`,
	} {
		if !strings.Contains(files, want) {
			t.Errorf("FILES lacks %s:\n%s", want, files)
		}
	}
	if see := section(page, "SEE ALSO"); !strings.Contains(see, `\fBsesame\-broker(1)\fP`) {
		t.Errorf("SEE ALSO lacks sesame-broker(1): %s", see)
	}
}

func TestExitCodesParse(t *testing.T) {
	root := cli.NewRootCmd(cli.NewFactory(strings.NewReader(""), io.Discard, io.Discard, func(string) string { return "" }))
	got := exitCodes(root)
	if len(got) < 5 || got[0] != (item{"0", "success"}) || got[len(got)-1].term != strconv.Itoa(130) {
		t.Errorf("exit codes %v", got)
	}
}

// envTerm is the term of an ENVIRONMENT item: one or more names.
var envTerm = regexp.MustCompile(`(?m)^\\fB(.*)\\fR$`)

func envNames(env string) []string {
	var names []string
	for _, m := range envTerm.FindAllStringSubmatch(env, -1) {
		names = append(names, strings.Split(m[1], ", ")...)
	}
	return names
}

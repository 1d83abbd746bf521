package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Outcome is what became of one mutation.
type Outcome int

const (
	Caught          Outcome = iota
	Survived                // every selected test passed with the mutation in place
	NoLongerApplies         // the text to replace is gone or not unique: the code moved
	Broken                  // the mutated tree does not build: the entry is wrong
	BaselineFails           // the selected tests fail, or run nothing, without the mutation
	Failed                  // go test could not be run at all
)

func (o Outcome) String() string {
	return [...]string{"caught", "SURVIVED", "NO LONGER APPLIES", "BROKEN", "BASELINE FAILS", "ERROR"}[o]
}

// testRun is one go test invocation.
type testRun struct {
	output  string
	err     error // nil when go test exited 0
	elapsed time.Duration
}

// goTest runs the selected tests in dir. The tests get timeout (go test
// -timeout, which fails the hung test and names it); the go command itself
// gets a minute more, for building, before it is killed.
func goTest(ctx context.Context, dir string, pkgs []string, run string, timeout time.Duration) testRun {
	ctx, cancel := context.WithTimeout(ctx, timeout+time.Minute)
	defer cancel()
	args := append([]string{"test", "-count=1", "-trimpath", "-vet=off", "-timeout=" + timeout.String(), "-run=" + run}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = testEnv()
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil && err != nil {
		err = fmt.Errorf("go test did not finish within %s: %w", timeout+time.Minute, ctx.Err())
	}
	return testRun{output: out.String(), err: err, elapsed: time.Since(start)}
}

// baseline runs the tests a mutation selects on the unmutated tree, from
// test binaries built once per package (most selections share a package,
// and linking is most of a small run's time). A selection is usable when
// it passes and runs at least one test in every package it names.
type baseline struct {
	ctx   context.Context
	dir   string             // the copy of the tree
	bins  string             // where the test binaries go
	built map[string]testRun // package → its build; bin set when it built
}

func newBaseline(ctx context.Context, dir, bins string) *baseline {
	return &baseline{ctx: ctx, dir: dir, bins: bins, built: map[string]testRun{}}
}

func (b *baseline) bin(pkg string) string {
	return filepath.Join(b.bins, strings.NewReplacer("/", "_", ".", "_").Replace(pkg)+".test")
}

// check returns "" when the selection is usable, else why not.
func (b *baseline) check(pkgs []string, run string, timeout time.Duration) (why string, output string) {
	var out strings.Builder
	for _, pkg := range pkgs {
		r, ok := b.built[pkg]
		if !ok {
			cmd := exec.CommandContext(b.ctx, "go", "test", "-c", "-trimpath", "-vet=off", "-o", b.bin(pkg), pkg)
			cmd.Dir, cmd.Env = b.dir, testEnv()
			o, err := cmd.CombinedOutput()
			r = testRun{output: string(o), err: err}
			b.built[pkg] = r
		}
		out.WriteString(r.output)
		if r.err != nil {
			return pkg + " does not build", out.String()
		}
		if _, err := os.Stat(b.bin(pkg)); err != nil {
			return pkg + " has no test files", out.String()
		}
		ctx, cancel := context.WithTimeout(b.ctx, timeout+time.Minute)
		cmd := exec.CommandContext(ctx, b.bin(pkg), "-test.count=1", "-test.timeout="+timeout.String(), "-test.run="+run)
		cmd.Dir, cmd.Env, cmd.WaitDelay = filepath.Join(b.dir, pkg), testEnv(), 5*time.Second
		o, err := cmd.CombinedOutput()
		cancel()
		out.Write(o)
		switch {
		case err != nil:
			if name := firstFailure(string(o)); name != "" {
				return name + " fails", out.String()
			}
			return fmt.Sprintf("the tests of %s: %v", pkg, err), out.String()
		case strings.Contains(string(o), "testing: warning: no tests to run"):
			return "run matches no test in " + pkg, out.String()
		}
	}
	return "", out.String()
}

// testEnv is the environment without SESAME_E2E: the selections are unit
// tests, and an end-to-end test that a selection matched by accident would
// need a browser and a keychain.
func testEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SESAME_E2E=") {
			env = append(env, kv)
		}
	}
	return env
}

var (
	failLine    = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)
	timeoutLine = regexp.MustCompile(`(?m)^panic: test timed out after \S+`)
	runningLine = regexp.MustCompile(`(?m)^\s*running tests:\n\s+(\S+)`)
	buildFailed = regexp.MustCompile(`(?m)\[(build|setup) failed\]$`)
)

// judge classifies a run with the mutation in place.
func judge(r testRun) (Outcome, string) {
	var exit *exec.ExitError
	switch {
	case r.err == nil:
		return Survived, "no selected test failed"
	case !errors.As(r.err, &exit):
		return Failed, r.err.Error()
	case buildFailed.MatchString(r.output):
		return Broken, "the mutated tree does not build"
	case timeoutLine.MatchString(r.output):
		name := "a test"
		if m := runningLine.FindStringSubmatch(r.output); m != nil {
			name = m[1]
		}
		return Caught, name + " (timed out)"
	}
	if name := firstFailure(r.output); name != "" {
		return Caught, name
	}
	return Caught, fmt.Sprintf("go test %v, no --- FAIL line", r.err)
}

// firstFailure is the first failing test, down to its deepest failing
// subtest: TestResponses/foreign_iss rather than TestResponses.
func firstFailure(output string) string {
	ms := failLine.FindAllStringSubmatch(output, -1)
	if len(ms) == 0 {
		return ""
	}
	name := ms[0][1]
	for _, m := range ms[1:] {
		if !strings.HasPrefix(m[1], name+"/") {
			break
		}
		name = m[1]
	}
	return name
}

// tail returns the last n lines of s, for showing why a run went wrong.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

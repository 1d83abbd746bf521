// Command mutator is the mutation check behind scripts/mutate: it breaks
// sesame's security guards on purpose, one at a time, in a temporary copy
// of the tree, and makes sure a test notices each time.
//
// The mutations are listed in scripts/mutations.txt, whose header
// describes the format and how to add one. For each, the mutator applies
// the change to the copy, runs the tests the entry names (go test -run),
// restores the file and reports whether a test failed ("caught"). It fails
// when a mutation survives, no longer applies (its text is gone or not
// unique, because the code moved), does not build, or when the selected
// tests do not pass, or run nothing, on the unmutated tree.
//
//	go run ./scripts/mutator [-list] [-tree DIR] [-mutations FILE] [-keep] [-v] [NAME...]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// result is one mutation's row of the table.
type result struct {
	m       *Mutation
	outcome Outcome
	detail  string // the failing test, or why it did not count
	elapsed time.Duration
	output  string // go test's output, for the explanation
}

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("mutate", flag.ContinueOnError)
	fl.SetOutput(stderr)
	list := fl.Bool("list", false, "print the mutations (name, files, tests, reason) and exit")
	tree := fl.String("tree", ".", "the source `tree` to copy and mutate")
	file := fl.String("mutations", "", "the mutation list (default TREE/scripts/mutations.txt)")
	keep := fl.Bool("keep", false, "keep the temporary copy and say where it is")
	verbose := fl.Bool("v", false, "print go test's output for every run")
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: scripts/mutate [-list] [-tree DIR] [-mutations FILE] [-keep] [-v] [NAME...]\n\n")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "mutate: "+format+"\n", a...)
		return code
	}

	src, err := filepath.Abs(*tree)
	if err != nil {
		return fail(2, "%v", err)
	}
	if *file == "" {
		*file = filepath.Join(src, "scripts", "mutations.txt")
	}
	f, err := os.Open(*file)
	if err != nil {
		return fail(2, "%v", err)
	}
	all, err := Parse(f, *file)
	f.Close()
	if err != nil {
		return fail(2, "the mutation list is malformed:\n%v", err)
	}
	muts, err := pick(all, fl.Args())
	if err != nil {
		return fail(2, "%v", err)
	}
	if *list {
		printList(stdout, muts)
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	tmp, err := os.MkdirTemp("", "sesame-mutate-")
	if err != nil {
		return fail(1, "%v", err)
	}
	if *keep {
		fmt.Fprintf(stdout, "mutate: the copy stays in %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	n, err := copyTree(src, tmp)
	if err != nil {
		return fail(1, "copy %s: %v", src, err)
	}
	fmt.Fprintf(stdout, "mutate: %d mutations, in a copy of %s (%d files)\n", len(muts), src, n)

	read := func(rel string) ([]byte, error) { return os.ReadFile(filepath.Join(tmp, rel)) }
	results := make([]*result, len(muts))
	mutated := make([]map[string][]byte, len(muts))
	for i, m := range muts {
		results[i] = &result{m: m}
		if mutated[i], err = m.Apply(read); err != nil {
			results[i].outcome, results[i].detail = NoLongerApplies, err.Error()
		}
	}

	// The selections must pass, and run something, before they can catch.
	bins := filepath.Join(tmp, ".mutate-bin")
	base := newBaseline(ctx, tmp, bins)
	unusable := map[string]string{} // selection → why it is unusable
	seen := map[string]bool{}
	bstart := time.Now()
	for i, m := range muts {
		key := selection(m)
		if results[i].outcome != Caught || seen[key] {
			continue
		}
		seen[key] = true
		why, out := base.check(m.Pkgs, m.Run, m.Timeout)
		if ctx.Err() != nil {
			return fail(130, "interrupted")
		}
		if *verbose {
			fmt.Fprintf(stdout, "--- baseline %s\n%s", key, out)
		}
		if why != "" {
			unusable[key] = why
		}
	}
	os.RemoveAll(bins)
	fmt.Fprintf(stdout, "mutate: %d test selections run on the unmutated tree, %d usable (%s)\n\n",
		len(seen), len(seen)-len(unusable), time.Since(bstart).Round(time.Second))

	width := 4
	for _, m := range muts {
		width = max(width, len(m.Name))
	}
	fmt.Fprintf(stdout, "%-*s  %-17s  %6s  %s\n", width, "NAME", "RESULT", "TIME", "CAUGHT BY / WHY")
	for i, m := range muts {
		res := results[i]
		if res.outcome == Caught {
			if why, bad := unusable[selection(m)]; bad {
				res.outcome, res.detail = BaselineFails, why
			} else {
				mutate(ctx, tmp, res, mutated[i], *verbose, stdout)
				if ctx.Err() != nil {
					return fail(130, "interrupted")
				}
			}
		}
		fmt.Fprintf(stdout, "%-*s  %-17s  %5.1fs  %s\n", width, m.Name, res.outcome, res.elapsed.Seconds(), res.detail)
	}

	counts := map[Outcome]int{}
	for _, r := range results {
		counts[r.outcome]++
	}
	bad := len(results) - counts[Caught]
	if bad > 0 {
		fmt.Fprintln(stdout)
		for _, r := range results {
			if r.outcome != Caught {
				explain(stdout, r, filepath.Base(*file))
			}
		}
	}
	var parts []string
	for _, o := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[o], strings.ToLower(o.String())))
	}
	fmt.Fprintf(stdout, "\nmutate: %d mutations: %s (%s)\n", len(results), strings.Join(parts, ", "), time.Since(start).Round(time.Second))
	if bad > 0 {
		return 1
	}
	return 0
}

// mutate writes the mutated files into the copy, runs the entry's tests
// and puts the originals back, whatever happens.
func mutate(ctx context.Context, dir string, res *result, files map[string][]byte, verbose bool, stdout io.Writer) {
	originals := map[string][]byte{}
	defer func() {
		for rel, b := range originals {
			if err := os.WriteFile(filepath.Join(dir, rel), b, 0o644); err != nil {
				panic(fmt.Sprintf("restore %s in %s: %v", rel, dir, err)) // the copy is unusable now
			}
		}
	}()
	for _, rel := range slices.Sorted(maps.Keys(files)) {
		path := filepath.Join(dir, rel)
		b, err := os.ReadFile(path)
		if err == nil {
			originals[rel] = b
			err = os.WriteFile(path, files[rel], 0o644)
		}
		if err != nil {
			res.outcome, res.detail = Failed, err.Error()
			return
		}
	}
	r := goTest(ctx, dir, res.m.Pkgs, res.m.Run, res.m.Timeout)
	res.outcome, res.detail = judge(r)
	res.elapsed, res.output = r.elapsed, r.output
	if verbose {
		fmt.Fprintf(stdout, "--- %s\n%s", res.m.Name, r.output)
	}
}

// explain says what a row that is not "caught" means and what to do.
func explain(w io.Writer, r *result, list string) {
	m := r.m
	fmt.Fprintf(w, "%s %s (%s line %d): %s\n", r.outcome, m.Name, list, m.Line, m.Why)
	for _, e := range m.Edits {
		fmt.Fprintf(w, "    %s: %s → %s\n", e.File, quote(e.Find), quote(e.Into))
	}
	cmd := fmt.Sprintf("go test -run '%s' %s", m.Run, strings.Join(m.Pkgs, " "))
	switch r.outcome {
	case Survived:
		fmt.Fprintf(w, "    every test passed with the change in place: %s\n", cmd)
		fmt.Fprintf(w, "    write a test that fails with it, or point run/pkg at one that does\n")
	case NoLongerApplies:
		fmt.Fprintf(w, "    %s\n    the code moved: update find (and into) to the code as it is now, keeping the break the entry is about\n", r.detail)
	case Broken:
		fmt.Fprintf(w, "    the mutated tree does not build; fix find/into:\n%s\n", indent(tail(r.output, 12)))
	case BaselineFails:
		fmt.Fprintf(w, "    the tests cannot judge it: without any mutation, %s: %s\n", r.detail, cmd)
	case Failed:
		fmt.Fprintf(w, "    %s\n", r.detail)
		if r.output != "" {
			fmt.Fprintf(w, "%s\n", indent(tail(r.output, 12)))
		}
	}
}

func indent(s string) string {
	return "        " + strings.ReplaceAll(s, "\n", "\n        ")
}

// selection names the tests a mutation runs; mutations that share one
// share its baseline run.
func selection(m *Mutation) string {
	return "-run '" + m.Run + "' " + strings.Join(m.Pkgs, " ")
}

// pick returns the mutations named, in list order, or all of them.
func pick(all []*Mutation, names []string) ([]*Mutation, error) {
	if len(names) == 0 {
		return all, nil
	}
	byName := map[string]*Mutation{}
	for _, m := range all {
		byName[m.Name] = m
	}
	want := map[string]bool{}
	var unknown []string
	for _, n := range names {
		if byName[n] == nil {
			unknown = append(unknown, n)
		}
		want[n] = true
	}
	if len(unknown) > 0 {
		return nil, errors.New("no mutation named " + strings.Join(unknown, ", ") + " (scripts/mutate -list shows them)")
	}
	var out []*Mutation
	for _, m := range all {
		if want[m.Name] {
			out = append(out, m)
		}
	}
	return out, nil
}

func printList(w io.Writer, muts []*Mutation) {
	for _, m := range muts {
		fmt.Fprintf(w, "%s\n    %s\n    %s\n    go test %s\n", m.Name, m.Why, strings.Join(m.Files(), ", "), selection(m))
	}
	files := map[string]bool{}
	for _, m := range muts {
		for _, f := range m.Files() {
			files[f] = true
		}
	}
	fmt.Fprintf(w, "\n%d mutations in %d files\n", len(muts), len(files))
}

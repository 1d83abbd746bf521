package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Mutation is one entry of the list: a small, exact source change that
// breaks a security rule, and the tests that must notice.
type Mutation struct {
	Name    string
	Why     string
	Pkgs    []string // go test packages, e.g. ./internal/login
	Run     string   // go test -run regexp
	Timeout time.Duration
	Edits   []Edit
	Line    int // where the entry starts in the list
}

// Edit replaces Find, which must occur exactly once in File, with Into.
type Edit struct {
	File, Find, Into string
	Line             int
}

// DefaultTimeout bounds one mutation's go test run unless it says otherwise.
const DefaultTimeout = 2 * time.Minute

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Parse reads a mutation list (the format is described in
// scripts/mutations.txt). It reports every problem it finds, each with its
// line number.
func Parse(r io.Reader, source string) ([]*Mutation, error) {
	var (
		list []*Mutation
		cur  *Mutation
		file string
		errs []error
		seen = map[string]int{}
		find *Edit // a find still waiting for its into
	)
	bad := func(line int, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", source, line, fmt.Sprintf(format, a...)))
	}
	finish := func(line int) {
		if cur == nil {
			return
		}
		if find != nil {
			bad(find.Line, "find without a following into")
		}
		switch {
		case cur.Why == "":
			bad(cur.Line, "mutation %s has no why line", cur.Name)
		case len(cur.Pkgs) == 0:
			bad(cur.Line, "mutation %s has no pkg line", cur.Name)
		case cur.Run == "":
			bad(cur.Line, "mutation %s has no run line", cur.Name)
		case len(cur.Edits) == 0:
			bad(cur.Line, "mutation %s has no find/into pair", cur.Name)
		}
		list = append(list, cur)
		cur, file, find = nil, "", nil
	}

	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		key, value := trimmed, ""
		if i := strings.IndexAny(trimmed, " \t"); i >= 0 {
			key, value = trimmed[:i], strings.TrimLeft(trimmed[i:], " \t")
		}
		if key == "mutation" {
			finish(n)
			if !nameRE.MatchString(value) {
				bad(n, "mutation name %q: use lower-case letters, digits and '-'", value)
			}
			if first, dup := seen[value]; dup {
				bad(n, "mutation %s is already defined on line %d", value, first)
			}
			seen[value] = n
			cur = &Mutation{Name: value, Line: n, Timeout: DefaultTimeout}
			continue
		}
		if cur == nil {
			bad(n, "%q before the first mutation line", key)
			continue
		}
		if find != nil && key != "into" {
			bad(n, "find on line %d needs an into line right after it", find.Line)
			find = nil
		}
		switch key {
		case "why":
			cur.Why = value
		case "pkg":
			cur.Pkgs = strings.Fields(value)
			for _, p := range cur.Pkgs {
				if !strings.HasPrefix(p, "./") || strings.Contains(p, "...") || strings.Contains(p, "..") {
					bad(n, "pkg %q: name a package directory, like ./internal/login", p)
				}
			}
		case "run":
			if _, err := regexp.Compile(strings.ReplaceAll(value, "/", "|")); err != nil {
				bad(n, "run %q is not a regular expression: %v", value, err)
			}
			cur.Run = value
		case "timeout":
			d, err := time.ParseDuration(value)
			if err != nil || d <= 0 {
				bad(n, "timeout %q is not a positive duration", value)
			}
			cur.Timeout = d
		case "file":
			if value == "" || strings.HasPrefix(value, "/") || strings.Contains(value, "..") {
				bad(n, "file %q: give a path inside the repository", value)
			}
			file = value
		case "find":
			if file == "" {
				bad(n, "find before a file line")
			}
			text, err := unescape(value)
			if err != nil {
				bad(n, "find: %v", err)
			}
			if text == "" {
				bad(n, "find is empty")
			}
			find = &Edit{File: file, Find: text, Line: n}
		case "into":
			if find == nil {
				bad(n, "into without a find right before it")
				continue
			}
			text, err := unescape(value)
			if err != nil {
				bad(n, "into: %v", err)
			}
			if text == find.Find {
				bad(n, "into is the same as find: that changes nothing")
			}
			find.Into = text
			cur.Edits = append(cur.Edits, *find)
			find = nil
		default:
			bad(n, "unknown key %q (mutation, why, pkg, run, timeout, file, find, into)", key)
		}
	}
	finish(n + 1)
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("read %s: %w", source, err))
	}
	return list, errors.Join(errs...)
}

// unescape turns the escapes of find and into values into the text: \n a
// line break, \t a tab, \s a space (for leading or trailing spaces, which
// are otherwise trimmed) and \\ a backslash. Anything else after a
// backslash is an error, so that Go source quoted by mistake is noticed.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", errors.New(`a lone \ at the end (write \\ for a backslash)`)
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 's':
			b.WriteByte(' ')
		case '\\':
			b.WriteByte('\\')
		default:
			return "", fmt.Errorf(`unknown escape \%c (use \n, \t, \s or \\; a backslash is \\)`, s[i])
		}
	}
	return b.String(), nil
}

// Apply returns the files the mutation changes, mutated, given a way to
// read the originals. Each find must occur exactly once in the file as the
// edits before it left it; otherwise the mutation no longer applies (the
// code moved), and the error says which text and how often it was found.
func (m *Mutation) Apply(read func(path string) ([]byte, error)) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, e := range m.Edits {
		b, ok := out[e.File]
		if !ok {
			var err error
			if b, err = read(e.File); err != nil {
				return nil, fmt.Errorf("%s: %w", e.File, err)
			}
		}
		s := string(b)
		if c := strings.Count(s, e.Find); c != 1 {
			return nil, fmt.Errorf("%s: %s occurs %d times, not once (list line %d)", e.File, quote(e.Find), c, e.Line)
		}
		out[e.File] = []byte(strings.Replace(s, e.Find, e.Into, 1))
	}
	return out, nil
}

// Files are the files the mutation changes, in the order first named.
func (m *Mutation) Files() []string {
	var files []string
	for _, e := range m.Edits {
		if !slices.Contains(files, e.File) {
			files = append(files, e.File)
		}
	}
	return files
}

// quote shortens text for a message: its first line, at most 60 bytes.
func quote(s string) string {
	first, _, multi := strings.Cut(s, "\n")
	if len(first) > 60 {
		first, multi = first[:60], true
	}
	if multi {
		first += "…"
	}
	return fmt.Sprintf("%q", first)
}

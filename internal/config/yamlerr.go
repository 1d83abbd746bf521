package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// FileError is a config file sesame cannot read as YAML, or whose values
// have the wrong type: where (file:line:column, as compilers say it, so
// editors can jump there) and the line itself, since "line 1: did not find
// expected key" alone sends the user hunting.
type FileError struct {
	Path         string
	Line, Column int // 1-based; Column 0 when unknown
	Msg          string
	Text         string // the offending line as the file has it
}

func (e *FileError) Error() string {
	where := fmt.Sprintf("%s:%d", e.Path, e.Line)
	if e.Column > 0 {
		where += ":" + strconv.Itoa(e.Column)
	}
	if e.Text == "" {
		return fmt.Sprintf("%s: %s", where, e.Msg)
	}
	return fmt.Sprintf("%s: %s\n  %d | %s", where, e.Msg, e.Line, e.Text)
}

// yamlLine is yaml.v3's "line N: " in front of a message.
var yamlLine = regexp.MustCompile(`^line (\d+): `)

// problemOf is a yaml.v3 error message without its "yaml: line N: "
// prefix, and that line (0 when it names none).
func problemOf(err error) (string, int) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	return msg, line
}

// syntaxError places a yaml.v3 parse error. yaml.v3 reports only a line,
// and for many errors the line where the enclosing block began, not the
// one at fault. The parser stops at the first character it cannot use, so
// prefixes of the file that end past that character fail with the same
// problem and the one that ends just before it does not: its end is the
// position to show.
func syntaxError(data []byte, path string, err error) error {
	problem, line := problemOf(err)
	e := &FileError{Path: path, Line: line, Msg: "invalid YAML: " + problem}
	if l, c, ok := problemAt(data, problem); ok {
		e.Line, e.Column = l, c
	} else if line > 0 {
		e.Column = firstColumn(lineText(data, line))
	}
	if e.Line == 0 {
		e.Line = 1
	}
	e.Text = lineText(data, e.Line)
	if r := []rune(e.Text); e.Column > 0 && e.Column <= len(r) && r[e.Column-1] == '\t' {
		e.Msg = "invalid YAML: a tab character; YAML indents with spaces only"
	}
	return e
}

// maxScan bounds the file that problemAt searches: each step parses a
// prefix, and a config file is a few hundred bytes.
const maxScan = 64 << 10

// problemAt finds the first line whose end makes a prefix of data fail
// with problem, then the column within it where prefixes start failing.
func problemAt(data []byte, problem string) (line, col int, ok bool) {
	if len(data) > maxScan {
		return 0, 0, false
	}
	fails := func(n int) bool {
		var doc yaml.Node
		err := yaml.Unmarshal(data[:n], &doc)
		if err == nil {
			return false
		}
		p, _ := problemOf(err)
		return p == problem
	}
	start := 0
	for line = 1; start <= len(data); line++ {
		end := len(data)
		if i := bytes.IndexByte(data[start:], '\n'); i >= 0 {
			end = start + i + 1
		}
		if fails(end) {
			// Back from the end of the line to the longest prefix that
			// parses: the character after it is the one at fault. (The
			// shortest failing prefix can mislead: "https:" at the end of
			// a prefix reads as a key.)
			n := end
			for n > start && fails(n-1) {
				n--
			}
			return line, max(1, utf8.RuneCount(data[start:n])), true
		}
		if end == len(data) {
			break
		}
		start = end
	}
	return 0, 0, false
}

// typeError places a value of the wrong type. yaml.v3's own message names
// the line and the Go type ("cannot unmarshal !!str `abc` into int"); the
// node tree has the column, and the profile and key tell what to write.
func typeError(doc *yaml.Node, data []byte, path string, err error) error {
	if e := checkTypes(doc); e != nil {
		e.Path, e.Text = path, lineText(data, e.Line)
		return e
	}
	msg, line := problemOf(err)
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg, line = problemOf(errors.New(te.Errors[0]))
	}
	if line == 0 {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	text := lineText(data, line)
	return &FileError{Path: path, Line: line, Column: firstColumn(text), Msg: msg, Text: text}
}

// checkTypes walks the file's tree as fileDoc decodes it and returns the
// first value of the wrong shape or type, with its position.
func checkTypes(doc *yaml.Node) *FileError {
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	at := func(n *yaml.Node, format string, args ...any) *FileError {
		return &FileError{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
	}
	if root.Kind != yaml.MappingNode {
		return at(root, "the file must be a mapping with the keys current and profiles")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		switch key.Value {
		case "current":
			if val.Kind != yaml.ScalarNode {
				return at(val, "current: want a profile name")
			}
		case "profiles":
			if isNull(val) {
				continue
			}
			if val.Kind != yaml.MappingNode {
				return at(val, "profiles: want a mapping of profile names to settings")
			}
			for j := 0; j+1 < len(val.Content); j += 2 {
				if e := checkProfile(val.Content[j].Value, val.Content[j+1], at); e != nil {
					return e
				}
			}
		}
	}
	return nil
}

func checkProfile(name string, prof *yaml.Node, at func(*yaml.Node, string, ...any) *FileError) *FileError {
	if isNull(prof) || prof.Kind == yaml.AliasNode {
		return nil
	}
	if prof.Kind != yaml.MappingNode {
		return at(prof, "profile %q: want a mapping of settings (issuer: ..., client_id: ...)", name)
	}
	for k := 0; k+1 < len(prof.Content); k += 2 {
		key, val := prof.Content[k], prof.Content[k+1]
		f, ok := fieldFor(key.Value)
		if !ok {
			continue // an unknown key: a warning, not an error
		}
		if err := val.Decode(reflect.New(f.Type).Interface()); err != nil {
			got := val.Value
			if val.Kind != yaml.ScalarNode {
				got = map[yaml.Kind]string{yaml.SequenceNode: "a list", yaml.MappingNode: "a mapping", yaml.AliasNode: "an alias"}[val.Kind]
			} else {
				got = strconv.Quote(got)
			}
			return at(val, "profile %q: %s: want %s, got %s", name, key.Value, describe(f.Type), got)
		}
	}
	return nil
}

// lineText is line n (1-based) of data, without its line ending.
func lineText(data []byte, n int) string {
	lines := strings.Split(string(data), "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return strings.TrimSuffix(lines[n-1], "\r")
}

// firstColumn is the column of the first character that is not blank.
func firstColumn(s string) int {
	return utf8.RuneCountInString(s) - utf8.RuneCountInString(strings.TrimLeft(s, " \t")) + 1
}

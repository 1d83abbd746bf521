package config

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlDoc is the config file as lines of text plus their parse tree.
//
// Edits replace only the lines of the entry they change and re-parse:
// encoding the whole tree back out with yaml.v3 would drop blank lines,
// re-indent, and move comments, and the file belongs to the user.
type yamlDoc struct {
	lines []string
	eol   string
	root  *yaml.Node // the top-level mapping; nil while the file has none
}

func parseDoc(data []byte) (*yamlDoc, error) {
	d := &yamlDoc{eol: "\n"}
	if bytes.Contains(data, []byte("\r\n")) {
		d.eol = "\r\n"
	}
	if text := strings.TrimSuffix(string(data), d.eol); text != "" {
		d.lines = strings.Split(text, d.eol)
	}
	// yaml.v3 also ends a line at a lone CR or LF, NEL, LS and PS; with one
	// of those inside a line its line numbers stop being indices into
	// lines, and a splice would land on the wrong lines.
	for i, l := range d.lines {
		if strings.ContainsAny(l, "\r\n\u0085\u2028\u2029") {
			return nil, fmt.Errorf("line %d: mixed line endings, or a U+0085, U+2028 or U+2029 line break; sesame edits only files whose lines all end the same way, in LF or CRLF", i+1)
		}
	}
	return d, d.reparse()
}

func (d *yamlDoc) bytes() []byte {
	if len(d.lines) == 0 {
		return nil
	}
	return []byte(strings.Join(d.lines, d.eol) + d.eol)
}

func (d *yamlDoc) reparse() error {
	var doc yaml.Node
	if err := yaml.Unmarshal(d.bytes(), &doc); err != nil {
		return err
	}
	d.root = nil
	if doc.Kind == 0 {
		return nil
	}
	switch top := doc.Content[0]; {
	case top.Kind == yaml.MappingNode && top.Style&yaml.FlowStyle == 0:
		d.root = top
	case top.Kind == yaml.MappingNode:
		return errors.New("the top level is a {...} flow mapping; rewrite it in block style to let sesame edit it")
	case isNull(top) && top.Value == "": // only a "---" marker
	default:
		return errors.New("the top level is not a mapping")
	}
	return nil
}

// get returns the node at path, or nil if any part of it is missing.
func (d *yamlDoc) get(path ...string) *yaml.Node {
	n := d.root
	for _, k := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		_, n = lookup(n, k)
	}
	return n
}

// set puts val at path, creating mappings on the way; a nil val deletes the
// key. Only the innermost block-style entry that exists is rewritten.
func (d *yamlDoc) set(path []string, val *yaml.Node) error {
	if err := d.splicePath(path, val); err != nil {
		return err
	}
	// Lines are placed by the columns the parser reports, which some
	// layouts (an explicit "? key", say) mislead: the new text can parse
	// but nest under the wrong key. Refuse rather than save that.
	if got := d.get(path...); (got == nil) != (val == nil) || got != nil && got.Kind != val.Kind {
		return fmt.Errorf("could not place %s in this file's layout; edit the file by hand", strings.Join(path, "."))
	}
	return nil
}

// splicePath does set's work; set then checks where it landed.
func (d *yamlDoc) splicePath(path []string, val *yaml.Node) error {
	if d.root == nil {
		if val == nil {
			return nil
		}
		return d.splice(len(d.lines), len(d.lines), entryLines(keyNode(path[0]), nest(path[1:], val), 0))
	}
	m := d.root
	for i, k := range path {
		key, v := lookup(m, k)
		if key == nil {
			if val == nil {
				return nil
			}
			lastKey, lastVal := m.Content[len(m.Content)-2], m.Content[len(m.Content)-1]
			at := d.entryEnd(lastKey, lastVal)
			return d.splice(at, at, entryLines(keyNode(k), nest(path[i+1:], val), m.Content[0].Column-1))
		}
		if i < len(path)-1 && d.shared(v) {
			return fmt.Errorf("line %d: %s is shared through the anchor &%s, so an edit would change the entries that refer to it too; edit the file by hand",
				key.Line, strings.Join(path[:i+1], "."), v.Anchor)
		}
		start, end := key.Line-1, d.entryEnd(key, v)
		if i == len(path)-1 {
			if val == nil {
				return d.splice(start, end, nil)
			}
			return d.splice(start, end, replacement(key, v, val))
		}
		switch {
		case v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0:
			m = v
		case v.Kind == yaml.MappingNode || isNull(v):
			// An empty or {...} mapping has no lines of its own to splice
			// into: rewrite the entry as a block mapping.
			nv := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			if !isNull(v) {
				nv.Content = slices.Clone(v.Content)
			}
			if err := setNode(nv, path[i+1:], val); err != nil {
				return err
			}
			return d.splice(start, end, replacement(key, v, nv))
		default:
			return fmt.Errorf("line %d: %s is not a mapping", key.Line, strings.Join(path[:i+1], "."))
		}
	}
	return nil
}

// shared reports whether n carries an anchor that an alias (or a "<<"
// merge) elsewhere in the file refers to.
func (d *yamlDoc) shared(n *yaml.Node) bool {
	if n.Anchor == "" {
		return false
	}
	var refers func(*yaml.Node) bool
	refers = func(c *yaml.Node) bool {
		return c.Kind == yaml.AliasNode && c.Alias == n || slices.ContainsFunc(c.Content, refers)
	}
	return refers(d.root)
}

// splice replaces lines [from, to) with repl and re-parses. Re-parsing
// also catches what a splice can break, such as an alias whose anchor sat
// in the replaced lines.
func (d *yamlDoc) splice(from, to int, repl []string) error {
	d.lines = slices.Concat(d.lines[:from], repl, d.lines[to:])
	if err := d.reparse(); err != nil {
		return fmt.Errorf("the edit would break the file: %w", err)
	}
	return nil
}

// entryEnd returns the index just past the last line of the mapping entry
// key: val. Comments and blank lines after the value are left out: they
// usually introduce whatever comes next.
func (d *yamlDoc) entryEnd(key, val *yaml.Node) int {
	end := max(key.Line, lastLine(val)) // 1-based, so also the index just past it
	indent := key.Column - 1
	block := hasBlockScalar(val)
	// Multi-line scalars and closing brackets run on past the last node's
	// first line, always indented deeper than the key.
	for i := end; i < len(d.lines); i++ {
		t := strings.TrimSpace(d.lines[i])
		if t == "" {
			continue
		}
		if len(d.lines[i])-len(strings.TrimLeft(d.lines[i], " ")) <= indent {
			break
		}
		if strings.HasPrefix(t, "#") && !block {
			continue
		}
		end = i + 1
	}
	return end
}

// lastLine is the highest line any node under n starts on. An empty null
// is left out: yaml.v3 can place it on the line after its key (it does for
// an empty document), and that line belongs to someone else.
func lastLine(n *yaml.Node) int {
	if isNull(n) && n.Value == "" {
		return 0
	}
	line := n.Line
	for _, c := range n.Content {
		line = max(line, lastLine(c))
	}
	return line
}

func hasBlockScalar(n *yaml.Node) bool {
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return true
	}
	return slices.ContainsFunc(n.Content, hasBlockScalar)
}

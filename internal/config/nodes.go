package config

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// valueNode turns a value from SaveProfile's set into a YAML node, or nil
// for a zero value. It decodes the node back into a Profile so that a wrong
// type fails here rather than on the next Load.
func valueNode(key string, v any) (*yaml.Node, error) {
	field, ok := fieldFor(key)
	if !ok {
		return nil, fmt.Errorf("unknown profile key %q", key)
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.IsZero() ||
		(slices.Contains([]reflect.Kind{reflect.Slice, reflect.Map}, rv.Kind()) && rv.Len() == 0) {
		return nil, nil
	}
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return nil, fmt.Errorf("profile key %q: %w", key, err)
	}
	check := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{keyNode(key), &n}}
	if err := check.Decode(new(Profile)); err != nil {
		return nil, fmt.Errorf("profile key %q: want %s, got %T", key, describe(field.Type), v)
	}
	// Flow style keeps lists and params on one line, as people write them.
	if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
		n.Style = yaml.FlowStyle
	}
	return &n, nil
}

func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list of strings"
	case reflect.Map:
		return "a map of strings"
	default:
		return "a string"
	}
}

// replacement renders key: val in place of key: old, keeping the key as the
// user wrote it, the comment at the end of its line, and block layout if
// the old value had it.
func replacement(key, old, val *yaml.Node) []string {
	k := *key
	k.HeadComment, k.FootComment = "", "" // those lines are outside the span
	comment := k.LineComment
	if comment == "" {
		comment = old.LineComment
	}
	k.LineComment = ""
	collection := val.Kind == yaml.MappingNode || val.Kind == yaml.SequenceNode
	if collection && old.Kind == val.Kind && old.Style&yaml.FlowStyle == 0 {
		val.Style &^= yaml.FlowStyle
	}
	if collection && val.Style&yaml.FlowStyle == 0 {
		k.LineComment = comment // yaml.v3 writes it after "key:"
	} else if val.LineComment == "" {
		val.LineComment = comment
	}
	return entryLines(&k, val, key.Column-1)
}

// entryLines encodes key: val as lines indented by indent spaces.
func entryLines(key, val *yaml.Node, indent int) []string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	// Encoding a tree of plain nodes has no failure mode beyond a writer
	// error, and bytes.Buffer has none.
	_ = enc.Encode(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{key, val}})
	_ = enc.Close()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	pad := strings.Repeat(" ", indent)
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return lines
}

// setNode is set for a tree that will be encoded whole.
func setNode(m *yaml.Node, path []string, val *yaml.Node) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != path[0] {
			continue
		}
		if len(path) == 1 {
			if val == nil {
				m.Content = slices.Delete(m.Content, i, i+2)
			} else {
				m.Content[i+1] = val
			}
			return nil
		}
		child := m.Content[i+1]
		if isNull(child) {
			child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			m.Content[i+1] = child
		}
		if child.Kind != yaml.MappingNode {
			return fmt.Errorf("line %d: %s is not a mapping", m.Content[i].Line, path[0])
		}
		return setNode(child, path[1:], val)
	}
	if val != nil {
		m.Content = append(m.Content, keyNode(path[0]), nest(path[1:], val))
	}
	return nil
}

// nest wraps val in block mappings, one per path element.
func nest(path []string, val *yaml.Node) *yaml.Node {
	if len(path) == 0 {
		return val
	}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map",
		Content: []*yaml.Node{keyNode(path[0]), nest(path[1:], val)}}
}

// lookup finds the entry for k in mapping m. A key written as an alias
// ("*name :") counts as the scalar it stands for, as it does when the file
// is loaded; otherwise an edit would add a second entry for the same key.
func lookup(m *yaml.Node, k string) (key, val *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		name := m.Content[i]
		if name.Kind == yaml.AliasNode && name.Alias != nil {
			name = name.Alias
		}
		if name.Kind == yaml.ScalarNode && name.Value == k {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

func keyNode(k string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

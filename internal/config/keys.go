package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// profileKeys lists the keys a profile may have, in the order of the Profile
// fields; the struct tags are the only list, so the two cannot drift apart.
func profileKeys() []string {
	var keys []string
	for f := range reflect.TypeFor[Profile]().Fields() {
		if key := yamlKey(f); key != "" {
			keys = append(keys, key)
		}
	}
	return keys
}

// fieldFor returns the Profile field stored under key.
func fieldFor(key string) (reflect.StructField, bool) {
	for f := range reflect.TypeFor[Profile]().Fields() {
		if yamlKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func yamlKey(f reflect.StructField) string {
	key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if key == "-" {
		return ""
	}
	return key
}

// urlFields are the Profile fields tagged kind:"url" or kind:"issuer", in
// field order: the settings Validate holds to the URL policy.
func urlFields() []reflect.StructField {
	var out []reflect.StructField
	for f := range reflect.TypeFor[Profile]().Fields() {
		if k := f.Tag.Get("kind"); k == "url" || k == "issuer" {
			out = append(out, f)
		}
	}
	return out
}

// envVar is the variable that overrides key: SESAME_ and the key in upper
// case, so SESAME_CLIENT_ID for client_id.
func envVar(key string) string { return "SESAME_" + strings.ToUpper(key) }

// Setting is one profile key and its value.
type Setting struct {
	Key string // the file key, such as "client_id"
	// Value is the field itself: a string, []string, map[string]string or
	// int, the zero value when the key is unset.
	Value any
}

// Settings lists every key of p with its value, in the order of the
// Profile fields, unset ones included: what `sesame profile show` prints,
// taken from the struct tags so that no key can be left out.
func (p Profile) Settings() []Setting {
	v := reflect.ValueOf(p)
	var out []Setting
	for f := range v.Type().Fields() {
		if key := yamlKey(f); key != "" {
			out = append(out, Setting{Key: key, Value: v.FieldByIndex(f.Index).Interface()})
		}
	}
	return out
}

// unknownKeys reports keys sesame would silently ignore. A mistyped key
// ("clientid") otherwise looks like a provider problem at login time.
func unknownKeys(doc *yaml.Node, path string) []string {
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	known := profileKeys()
	var warnings []string
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		switch {
		case key.Value == "current":
		case key.Value == "profiles":
			if val.Kind != yaml.MappingNode {
				continue
			}
			for j := 0; j+1 < len(val.Content); j += 2 {
				name, prof := val.Content[j].Value, val.Content[j+1]
				if prof.Kind != yaml.MappingNode {
					continue
				}
				for k := 0; k+1 < len(prof.Content); k += 2 {
					key := prof.Content[k]
					if key.Value == "<<" || slices.Contains(known, key.Value) {
						continue
					}
					warnings = append(warnings, fmt.Sprintf("%s:%d: profile %q: unknown key %q%s",
						path, key.Line, name, key.Value, suggest(key.Value, known)))
				}
			}
		case slices.Contains(known, key.Value):
			warnings = append(warnings, fmt.Sprintf("%s:%d: unknown key %q (profile settings go under profiles.<name>)",
				path, key.Line, key.Value))
		default:
			warnings = append(warnings, fmt.Sprintf("%s:%d: unknown key %q%s",
				path, key.Line, key.Value, suggest(key.Value, []string{"current", "profiles"})))
		}
	}
	return warnings
}

// suggest names the known key closest to a mistyped one, if any is close:
// same letters ignoring case, "_" and "-", or at most two edits apart.
func suggest(key string, known []string) string {
	norm := func(s string) string {
		return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s))
	}
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(norm(key), norm(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

package config

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Origin says where a value came from, for `sesame profile show`: a flag,
// a variable, the file (with the line) or sesame's default.
type Origin struct {
	Kind string // OriginFlag, OriginEnv, OriginFile or OriginDefault
	// Name is the flag ("--profile") or variable ("SESAME_ISSUER"); Line
	// the file's line, when known.
	Name string
	Line int
}

// The kinds of Origin.
const (
	OriginFlag    = "flag"
	OriginEnv     = "env"
	OriginFile    = "file"
	OriginDefault = "default"
	// OriginArg is a command's own argument (`sesame profile show NAME`).
	OriginArg = "argument"
)

// String is the origin as `profile show` prints it: "env SESAME_ISSUER",
// "file line 4", "file current, line 1", "flag --profile", "default".
func (o Origin) String() string {
	switch {
	case o.Kind == OriginFile && o.Name != "" && o.Line > 0:
		return fmt.Sprintf("file %s, line %d", o.Name, o.Line) // "file current, line 1"
	case o.Kind == OriginFile && o.Line > 0:
		return fmt.Sprintf("file line %d", o.Line)
	case o.Name != "":
		return o.Kind + " " + o.Name
	}
	return o.Kind
}

// Selection is the profile a command uses and what chose it.
type Selection struct {
	Name string
	From Origin
}

// Select picks the profile as ProfileName does and says what chose it.
func (c *Config) Select(explicit string) Selection {
	switch {
	case explicit != "":
		return Selection{explicit, Origin{Kind: OriginFlag, Name: "--profile"}}
	case c.env("SESAME_PROFILE") != "":
		return Selection{c.env("SESAME_PROFILE"), Origin{Kind: OriginEnv, Name: "SESAME_PROFILE"}}
	case c.Current != "":
		return Selection{c.Current, Origin{Kind: OriginFile, Name: "current", Line: c.currentLine()}}
	}
	return Selection{DefaultProfile, Origin{Kind: OriginDefault}}
}

// Has reports whether the file has the profile.
func (c *Config) Has(name string) bool {
	_, ok := c.profiles[name]
	return ok
}

// UnknownProfileError is a selected profile the file does not have. It
// is the user's to fix (a typo in --profile or SESAME_PROFILE, a profile
// removed), so it lists the ones there are.
type UnknownProfileError struct {
	Selection
	Path   string
	Known  []string
	Exists bool // whether the config file exists
}

func (e *UnknownProfileError) Error() string {
	where := "the config file " + e.Path
	if e.Path == "" {
		where = "the configuration"
	}
	from := ""
	switch e.From.Kind {
	case OriginFlag, OriginEnv:
		from = " (" + e.From.Name + ")"
	case OriginFile:
		from = " (the file's current profile)"
	}
	if !e.Exists && e.Path != "" {
		return fmt.Sprintf("no profile %q%s: the config file %s does not exist yet", e.Name, from, e.Path)
	}
	known := "it has no profiles"
	if len(e.Known) > 0 {
		known = "known profiles: " + strings.Join(e.Known, ", ")
	}
	return fmt.Sprintf("no profile %q%s in %s; %s", e.Name, from, where, known)
}

// Hint says how to create the profile.
func (e *UnknownProfileError) Hint() string {
	return fmt.Sprintf("`sesame init ISSUER --name %s` creates it; `sesame profile list` shows the others.", e.Name)
}

// Check returns an *UnknownProfileError unless the file has the selected
// profile. "default" needs no entry: with SESAME_ISSUER and
// SESAME_CLIENT_ID, or flags, sesame runs without any file.
func (c *Config) Check(sel Selection) error {
	if sel.Name == DefaultProfile || c.Has(sel.Name) {
		return nil
	}
	return &UnknownProfileError{Selection: sel, Path: c.Path, Known: c.ProfileNames(), Exists: c.Exists}
}

// CheckExists is Check without the exception for "default": for the
// commands that act on the file's entry itself (profile show, use,
// remove).
func (c *Config) CheckExists(sel Selection) error {
	if c.Has(sel.Name) {
		return nil
	}
	return &UnknownProfileError{Selection: sel, Path: c.Path, Known: c.ProfileNames(), Exists: c.Exists}
}

// Origins says where each setting of the named profile (as Profile
// returns it) comes from, keyed by the file key: a SESAME_* variable, or
// the file, with the line when the profile sets the key itself (not
// through a "<<" merge). Keys that are unset are left out.
func (c *Config) Origins(name string) map[string]Origin {
	lines := keyLines(c.data)[name]
	out := map[string]Origin{}
	file := reflect.ValueOf(c.profiles[name])
	for f := range reflect.TypeFor[Profile]().Fields() {
		key := yamlKey(f)
		if key == "" {
			continue
		}
		switch {
		case c.env(envVar(key)) != "":
			out[key] = Origin{Kind: OriginEnv, Name: envVar(key)}
		case lines[key] > 0:
			out[key] = Origin{Kind: OriginFile, Line: lines[key]}
		case !file.FieldByIndex(f.Index).IsZero():
			out[key] = Origin{Kind: OriginFile}
		}
	}
	return out
}

// keyLines maps each profile to the line of each key it sets.
func keyLines(data []byte) map[string]map[string]int {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	profiles := mappingValue(doc.Content[0], "profiles")
	if profiles == nil {
		return nil
	}
	out := map[string]map[string]int{}
	for i := 0; i+1 < len(profiles.Content); i += 2 {
		name, prof := profiles.Content[i], profiles.Content[i+1]
		if name.Kind == yaml.AliasNode && name.Alias != nil {
			name = name.Alias
		}
		if prof.Kind != yaml.MappingNode {
			continue
		}
		lines := map[string]int{}
		for k := 0; k+1 < len(prof.Content); k += 2 {
			lines[prof.Content[k].Value] = prof.Content[k].Line
		}
		out[name.Value] = lines
	}
	return out
}

func (c *Config) currentLine() int {
	var doc yaml.Node
	if yaml.Unmarshal(c.data, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	for i := 0; i+1 < len(doc.Content[0].Content); i += 2 {
		if doc.Content[0].Content[i].Value == "current" {
			return doc.Content[0].Content[i].Line
		}
	}
	return 0
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	_, v := lookup(m, key)
	if v == nil || v.Kind != yaml.MappingNode {
		return nil
	}
	return v
}

// EnvVar is a SESAME_* variable that overrides a profile key.
type EnvVar struct {
	Name string // SESAME_CLIENT_ID
	Key  string // client_id
	// Format says how a value that is not a plain string is written, as
	// applyEnv reads it: "" for a string.
	Format string
}

// EnvVars lists the variables applyEnv reads, in the order of the
// Profile fields, from the same struct tags: for documentation.
func EnvVars() []EnvVar {
	var out []EnvVar
	for _, key := range profileKeys() {
		f, _ := fieldFor(key)
		format := map[reflect.Kind]string{
			reflect.Slice: "separated by spaces or commas",
			reflect.Map:   "a query string, a=1&b=2",
			reflect.Int:   "a number",
			reflect.Bool:  "true or false",
		}[f.Type.Kind()]
		out = append(out, EnvVar{Name: envVar(key), Key: key, Format: format})
	}
	return out
}

package brokercmd

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/sesame-cli/sesame/internal/broker"
)

// unknownKeys reports every key of the file that no setting has: a typo
// such as client_secert_file must stop the start, not be ignored.
func unknownKeys(settings map[string]any) error {
	var c problems
	top := keysOf(reflect.TypeFor[broker.Config]())
	for _, k := range sortedKeys(settings) {
		if k == "max_body" {
			c.bad(k, "fixed at %d KiB; it cannot be configured", broker.MaxBody>>10)
			continue
		}
		if !slices.Contains(top, k) {
			c.bad(k, "unknown key (known: %s)", strings.Join(top, ", "))
		}
	}
	clients, ok := settings["clients"].([]any)
	if !ok {
		if v, present := settings["clients"]; present && v != nil {
			c.bad("clients", "must be a list of clients")
		}
		return c.err()
	}
	known := keysOf(reflect.TypeFor[broker.Client]())
	for i, raw := range clients {
		m, ok := raw.(map[string]any)
		if !ok {
			c.bad(fmt.Sprintf("clients[%d]", i), "must be a mapping of client settings")
			continue
		}
		for _, k := range sortedKeys(m) {
			if !slices.Contains(known, strings.ToLower(k)) {
				c.bad(broker.FileKey(i, k), "unknown key (known: %s)", strings.Join(known, ", "))
			}
		}
	}
	return c.err()
}

// problems collects every problem with the file at once, so that one
// start shows them all.
type problems struct{ errs []error }

func (p *problems) bad(key string, format string, args ...any) {
	p.errs = append(p.errs, &broker.ConfigError{Key: key, Err: fmt.Errorf(format, args...)})
}

func (p *problems) err() error { return errors.Join(p.errs...) }

// keysOf lists a struct's mapstructure keys.
func keysOf(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		if tag := f.Tag.Get("mapstructure"); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

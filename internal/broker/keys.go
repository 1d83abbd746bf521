package broker

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// unknownKeys reports every key of the file that no setting has: a typo
// such as client_secert_file must stop the start, not be ignored.
func unknownKeys(settings map[string]any) error {
	var c checker
	top := keysOf(reflect.TypeFor[Config]())
	for _, k := range sortedKeys(settings) {
		if k == "max_body" {
			c.bad(k, "fixed at %d KiB; it cannot be configured", MaxBody>>10)
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
	known := keysOf(reflect.TypeFor[Client]())
	for i, raw := range clients {
		m, ok := raw.(map[string]any)
		if !ok {
			c.bad(fmt.Sprintf("clients[%d]", i), "must be a mapping of client settings")
			continue
		}
		for _, k := range sortedKeys(m) {
			if !slices.Contains(known, strings.ToLower(k)) {
				c.bad(fileKey(i, k), "unknown key (known: %s)", strings.Join(known, ", "))
			}
		}
	}
	if len(c.errs) == 0 {
		return nil
	}
	return errors.Join(c.errs...)
}

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

package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// ErrProfileNotFound is returned by RemoveProfile for a name the file lacks.
var ErrProfileNotFound = errors.New("profile not found")

// SaveProfile writes the keys in set into profiles.<name> of the file at
// path, creating the file and its directory (0700) if need be; the file is
// replaced, not edited in place, and always ends up 0600. Keys
// are the file's names ("issuer", "client_id", "scopes", ...); a zero value
// (nil, "", 0, empty list or map) removes the key. Everything else in the
// file, comments and unknown keys included, is left as it was. The profile
// is created even when set is empty. Values are type-checked but not
// validated: call Profile.Validate first where that matters.
func SaveProfile(path, name string, set map[string]any) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	nodes := make(map[string]*yaml.Node, len(set))
	for key, v := range set {
		n, err := valueNode(key, v)
		if err != nil {
			return err
		}
		nodes[key] = n
	}
	return edit(path, func(d *yamlDoc) error {
		if d.get("profiles", name) == nil {
			empty := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
			if err := d.set([]string{"profiles", name}, empty); err != nil {
				return err
			}
		}
		// Field order, not map order, so that new keys come out the same way
		// every time.
		for _, key := range profileKeys() {
			if n, ok := nodes[key]; ok {
				if err := d.set([]string{"profiles", name, key}, n); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// SetCurrent makes name the profile used when none is chosen; "" removes
// the choice. The profile need not exist yet.
func SetCurrent(path, name string) error {
	var val *yaml.Node
	if name != "" {
		if err := ValidateName(name); err != nil {
			return err
		}
		val = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name}
	}
	return edit(path, func(d *yamlDoc) error {
		return d.set([]string{"current"}, val)
	})
}

// RemoveProfile deletes profiles.<name>, and the "current" key if it named
// that profile, so that sesame falls back to the default instead of an
// empty profile.
func RemoveProfile(path, name string) error {
	return edit(path, func(d *yamlDoc) error {
		if d.get("profiles", name) == nil {
			return fmt.Errorf("%w: %q", ErrProfileNotFound, name)
		}
		if err := d.set([]string{"profiles", name}, nil); err != nil {
			return err
		}
		if cur := d.get("current"); cur != nil && cur.Value == name {
			return d.set([]string{"current"}, nil)
		}
		return nil
	})
}

// edit applies fn to the file at path and writes the result back, refusing
// to write anything Load would reject.
func edit(path string, fn func(*yamlDoc) error) error {
	if path == "" {
		return errors.New("no config file path: set HOME or XDG_CONFIG_HOME, or name the file explicitly")
	}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read config: %w", err)
	}
	// A file Load rejects is the user's to fix; editing around the problem
	// could only guess at what they meant.
	if _, _, err := decodeFile(old, path); err != nil {
		return err
	}
	d, err := parseDoc(old)
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if err := fn(d); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	data := d.bytes()
	if bytes.Equal(data, old) {
		return nil
	}
	if _, _, err := decodeFile(data, path); err != nil {
		return fmt.Errorf("not saved, the edit would leave the file unreadable: %w", err)
	}
	if err := writeAtomic(path, data); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	return nil
}

// writeAtomic replaces path in one rename, so a crash or a concurrent
// reader never sees half a file. A symlinked config (dotfile managers) is
// followed so the link survives.
func writeAtomic(path string, data []byte) (err error) {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Persist the rename itself; not every platform can sync a directory.
	if dh, derr := os.Open(dir); derr == nil {
		_ = dh.Sync()
		_ = dh.Close()
	}
	return nil
}

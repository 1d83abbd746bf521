package session

import (
	"crypto/sha256"
	"encoding/hex"
)

// Key is the store key of a profile's token set in the standard config
// file, or when there is no file: the bare profile name, as sesame has
// always named it.
func Key(profile string) string { return KeyFor("", profile) }

// Namespace is what sets the store keys of the profiles in the config
// file at configPath apart: "" for the standard file std
// ($XDG_CONFIG_HOME/sesame/config.yaml), else the first 8 bytes of
// SHA-256 of the path, in hex. Both paths are absolute.
//
// Two files may both have a profile "work" for different providers or
// accounts; keyed by the name alone, a login, logout or `profile remove`
// in one would replace or delete the other's tokens. Entries written
// before keys named the file carry no record of the file they came from;
// they are taken to be the standard file's, the one nearly every user
// has, and so that file keeps the bare names: its logins stay where they
// are, with nothing to migrate and no second keychain read. A profile of
// another file (--config, $SESAME_CONFIG) logs in once more.
func Namespace(configPath, std string) string {
	if configPath == "" || configPath == std {
		return ""
	}
	sum := sha256.Sum256([]byte(configPath))
	return hex.EncodeToString(sum[:8])
}

// KeyFor is the store key of profile's token set in namespace ns: the
// only place entry names are made. Derived entries (Target.key) and the
// lock file (Session.lock) are named after it. With a namespace the key
// is "ns/profile", which never equals a bare profile name (names cannot
// contain "/") and never contains the store's reserved "#".
func KeyFor(ns, profile string) string {
	if ns == "" {
		return profile
	}
	return ns + "/" + profile
}

func (s *Session) key() string { return KeyFor(s.Namespace, s.Profile) }

// Package store keeps secret blobs (serialised token sets) under short keys.
//
// The default backend is the OS keychain (macOS Keychain, Windows Credential
// Manager, the freedesktop Secret Service on Linux). A plain-file backend
// exists for machines without a keychain, but only as an explicit opt-in:
// nothing in this package falls back to it on its own, because a user who
// expects tokens in the keychain must not find them on disk unannounced.
package store

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound means no value is stored under the key. Every backend
// normalises its own "missing" condition to this error.
var ErrNotFound = errors.New("no stored value for this key")

// Store is a key/value store for secret blobs.
type Store interface {
	// Get returns the value stored under key, or ErrNotFound.
	Get(key string) ([]byte, error)
	// Set replaces the value under key. It is atomic: a concurrent or later
	// reader sees either the old value or the new one, never a mix, even if
	// the process dies part way through.
	Set(key string, value []byte) error
	// Delete removes the value under key. Deleting an absent key is not an
	// error, so logout can be retried safely.
	Delete(key string) error
	// Backend names the storage for status output: "keychain" or "file".
	Backend() string
}

// chunkSep separates a key from its chunk suffix in keychain entry names
// (see keychain.go). It is reserved in every backend so that a key valid
// for one backend is valid for the other.
const chunkSep = "#"

// checkKey rejects keys that could collide with the keychain backend's
// chunk entries or that name nothing.
func checkKey(key string) error {
	if key == "" {
		return errors.New("store key is empty")
	}
	if strings.Contains(key, chunkSep) {
		return fmt.Errorf("store key %q contains the reserved character %q", key, chunkSep)
	}
	return nil
}

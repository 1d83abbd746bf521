// Package fsperm is the one rule sesame applies to the files and
// directories it trusts: they belong to the user and nobody else can write
// to them, as ssh demands of ~/.ssh. Whoever can write to the token
// directory can read or replace the tokens; whoever can write to the lock
// directory can put a symbolic link where a lock file belongs and have
// sesame create or lock a file of their choosing; whoever can write the
// config file decides which server receives the user's authorization codes
// and refresh tokens.
package fsperm

import (
	"fmt"
	"io/fs"
	"os"
)

// Private returns nil if path, described by fi, may hold secrets or locks:
// not a symbolic link, owned by the current user, not writable by group or
// others. Pass the result of os.Lstat for a file, so that a link shows as
// one; os.Stat for a directory, whose target is then what is checked.
func Private(path string, fi fs.FileInfo) error {
	return private(path, fi, os.Getuid())
}

func private(path string, fi fs.FileInfo, uid int) error {
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("refusing to use %s: it is a symbolic link, where sesame keeps a file of its own; remove it", path)
	}
	return check(path, fi, uid, false)
}

// Config returns nil if the config file path, described by fi, can be
// trusted: owned by the user or by root (a file the system manages), not
// writable by group or others. A symbolic link is fine (dotfile managers
// link the file in), so fi describes its target: os.Stat or an open file.
func Config(path string, fi fs.FileInfo) error {
	return check(path, fi, os.Getuid(), true)
}

//go:build unix

package fsperm

import (
	"fmt"
	"io/fs"
	"syscall"
)

// NoFollow makes os.OpenFile fail on a symbolic link instead of opening
// whatever it points to.
const NoFollow = syscall.O_NOFOLLOW

// check is the rule itself; uid is a parameter so that tests can play a
// path owned by someone else without being root.
func check(path string, fi fs.FileInfo, uid int, rootOK bool) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if owner := int(st.Uid); owner != uid && !(rootOK && owner == 0) {
			return fmt.Errorf("refusing to use %s: it is owned by uid %d, not you (uid %d); remove it or fix its owner", path, owner, uid)
		}
	}
	if mode := fi.Mode().Perm(); mode&0o022 != 0 {
		return fmt.Errorf("refusing to use %s: it is writable by group or others (mode %04o); fix it with: chmod go-w %s", path, mode, path)
	}
	return nil
}

//go:build !linux

package store

// newFastRead: only Linux has a lean read (secretservice_linux.go); other
// systems use go-keyring.
func newFastRead() func(service, user string) (string, bool) { return nil }

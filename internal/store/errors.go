package store

import (
	"fmt"
	"time"
)

// TimeoutError reports that the OS keychain did not answer in time. A locked
// desktop keychain can wait indefinitely for an unlock prompt that nobody
// sees (for example over SSH), so every keychain call is bounded.
type TimeoutError struct {
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("the OS keychain did not answer within %s; it may be locked: unlock it and try again", e.After)
}

// UnavailableError reports that the OS keychain cannot be used at all: no
// Secret Service on a headless Linux host, no D-Bus session, access denied,
// or an unsupported platform. The caller decides whether to offer the file
// backend; this package never switches on its own.
type UnavailableError struct {
	Err error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("the OS keychain is not available (%v); to keep tokens in a plain file instead, "+
		"use --insecure-storage or set \"storage: file\" in the profile", e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// CorruptError reports a stored value that cannot be reassembled: a chunk is
// missing, its checksum does not match, or the entry is not in a format this
// version writes. Returning it instead of the bytes keeps a damaged token set
// from being parsed as if it were valid.
type CorruptError struct {
	Key    string
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("the OS keychain entry %q is damaged (%s); store a new value to replace it", e.Key, e.Reason)
}

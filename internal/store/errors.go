package store

import (
	"fmt"
	"runtime"
	"strings"
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

// LockedError reports a keychain that refused because it is locked and
// nobody unlocked it: the Secret Service's unlock prompt was dismissed or
// could not be shown (no display), an item of a locked collection was
// read, or macOS could not ask (over SSH). Unlocking it is the fix; a
// plain file would be a worse place for the tokens of a user who has a
// keychain, so the message does not offer one.
type LockedError struct {
	Err error
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("the OS keychain is locked (%v); %s, then try again", e.Err, unlockHint(runtime.GOOS))
}

func (e *LockedError) Unwrap() error { return e.Err }

// unlockHint says how to unlock the keychain on goos.
func unlockHint(goos string) string {
	switch goos {
	case "darwin":
		return "unlock it with `security unlock-keychain`"
	case "windows":
		return "sign in to Windows to unlock the Credential Manager"
	default:
		return "unlock the login keyring (in the desktop session, or with `gnome-keyring-daemon --unlock` over SSH)"
	}
}

// isLocked recognises the answers of a locked keychain, which go-keyring
// passes on as plain errors: its own "failed to unlock correct collection"
// after an unlock prompt that was dismissed or could not be shown, the
// Secret Service's org.freedesktop.Secret.Error.IsLocked ("Cannot get
// secret of a locked object"), and macOS's errSecInteractionNotAllowed
// (-25308, "User interaction is not allowed").
func isLocked(err error) bool {
	msg := err.Error()
	for _, s := range []string{
		"failed to unlock correct collection",
		"Cannot get secret of a locked object",
		"org.freedesktop.Secret.Error.IsLocked",
		"User interaction is not allowed",
		"-25308",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

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

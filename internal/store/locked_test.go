package store

import (
	"errors"
	"strings"
	"testing"
)

// The answers of a locked keychain become a *LockedError that says to
// unlock it and offers no plain file; other failures stay
// *UnavailableError, which does offer one.
func TestLockedKeychain(t *testing.T) {
	for _, msg := range []string{
		"failed to unlock correct collection '/org/freedesktop/secrets/collection/login'",
		"Cannot get secret of a locked object",
		"org.freedesktop.Secret.Error.IsLocked",
		"exit status 36: security: SecKeychainItemCopyContent: User interaction is not allowed. (-25308)",
	} {
		err := classify(errors.New(msg))
		var le *LockedError
		if !errors.As(err, &le) {
			t.Errorf("%q classified as %T", msg, err)
			continue
		}
		text := err.Error()
		if !strings.Contains(text, "locked") || !strings.Contains(text, "unlock") ||
			strings.Contains(text, "insecure-storage") || strings.Contains(text, "storage: file") || strings.Contains(text, "\n") {
			t.Errorf("message %q", text)
		}
	}
	var ue *UnavailableError
	if err := classify(errors.New(`exec: "dbus-launch": executable file not found in $PATH`)); !errors.As(err, &ue) {
		t.Errorf("no D-Bus: %T", err)
	}
	for goos, want := range map[string]string{"darwin": "security unlock-keychain", "linux": "gnome-keyring-daemon --unlock"} {
		if !strings.Contains(unlockHint(goos), want) {
			t.Errorf("%s: %q", goos, unlockHint(goos))
		}
	}
}

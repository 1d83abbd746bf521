package e2e

import (
	"bytes"
	"os/exec"
	"slices"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// `sesame token` has two paths: the plain invocation answers
// before the command tree with the lean Secret Service read
// (tokencmd.Fast, internal/store/secretservice_linux.go), and everything
// else runs the full command with go-keyring. Against the real
// gnome-keyring both end in the same place: the same token, and for a
// locked keyring, a damaged entry or a missing login the same exit code
// and message. `--format raw` prints what the plain invocation prints but
// takes the full path. (The harness sets SESAME_VERBOSE=1, which also
// takes the full path, so these runs go without it.)
func TestTokenFastPathMatchesFullPath(t *testing.T) {
	requireE2E(t)
	idp := startIdP(t)
	e := newEnv(t)
	if r := e.login(idp); r.Code != 0 {
		t.Fatalf("login: exit %d\n%s\n%s", r.Code, r.Stderr, e.browserLog())
	}
	both := func(what string) (fast, full [3]string) {
		t.Helper()
		run := func(args ...string) [3]string {
			cmd := exec.Command(sesameBin, args...)
			cmd.Env = slices.DeleteFunc(e.environ(), func(s string) bool { return s == "SESAME_VERBOSE=1" })
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			code := "0"
			if err := cmd.Run(); err != nil {
				code = err.Error()
			}
			return [3]string{code, out.String(), errb.String()}
		}
		fast, full = run("token"), run("token", "--format", "raw")
		if fast != full {
			t.Errorf("%s: plain token = %q\nfull path = %q", what, fast, full)
		}
		return fast, full
	}

	if fast, _ := both("valid token"); fast[0] != "0" || len(fast[1]) < 10 {
		t.Fatalf("valid token: %q", fast)
	}

	// Locked: the lean read never unlocks; go-keyring's Unlock needs a
	// prompt, which has no display here.
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.Auth(nil); err != nil {
		t.Fatal(err)
	}
	if err := conn.Hello(); err != nil {
		t.Fatal(err)
	}
	const login = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	svc := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	if err := svc.Call("org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{login}).Err; err != nil {
		t.Fatal(err)
	}
	fast, _ := both("locked keyring")
	unlockLoginKeyring(t, conn, svc, login)
	if fast[0] == "0" {
		t.Errorf("locked keyring: a token came out: %q", fast)
	}

	// A damaged entry, then a missing one.
	if err := keyring.Set("sesame", e.Profile, "not base64 at all"); err != nil {
		t.Fatal(err)
	}
	if fast, _ := both("damaged entry"); fast[0] == "0" {
		t.Errorf("damaged entry: %q", fast)
	}
	keyring.Delete("sesame", e.Profile)
	if fast, _ := both("missing entry"); fast[0] == "0" {
		t.Errorf("missing entry: %q", fast)
	}
}

// unlockLoginKeyring unlocks scripts/with-keyring's throwaway keyring with
// its password through gnome-keyring's own interface: no prompt.
func unlockLoginKeyring(t *testing.T, conn *dbus.Conn, svc dbus.BusObject, login dbus.ObjectPath) {
	t.Helper()
	var out dbus.Variant
	var sess dbus.ObjectPath
	if err := svc.Call("org.freedesktop.Secret.Service.OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&out, &sess); err != nil {
		t.Fatal(err)
	}
	defer conn.Object("org.freedesktop.secrets", sess).Call("org.freedesktop.Secret.Session.Close", 0)
	secret := struct {
		Session     dbus.ObjectPath
		Parameters  []byte
		Value       []byte
		ContentType string
	}{sess, []byte{}, []byte("throwaway-keyring"), "text/plain"}
	if err := svc.Call("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.UnlockWithMasterPassword", 0, login, secret).Err; err != nil {
		t.Fatalf("unlock: %v", err)
	}
}

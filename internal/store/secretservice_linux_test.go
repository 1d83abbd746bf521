//go:build linux

package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// privateBus starts a dbus-daemon of its own and returns its address.
func privateBus(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		t.Skip("no dbus-daemon")
	}
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := out.Read(b); err != nil {
			t.Fatalf("dbus-daemon: %v", err)
		}
		if b[0] == '\n' {
			break
		}
		line = append(line, b[0])
	}
	return string(line)
}

// fakeService is a Secret Service on a private bus that answers the lean
// read's calls according to mode, and records the calls it gets.
type fakeService struct {
	mode string // "refuse", "two items", "ok"
	mu   sync.Mutex
	seen []string
}

func (f *fakeService) note(s string) { f.mu.Lock(); f.seen = append(f.seen, s); f.mu.Unlock() }

func (f *fakeService) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

var errRefused = dbus.NewError("org.freedesktop.DBus.Error.AccessDenied", []any{"refused"})

func startFake(t *testing.T, mode string) (string, *fakeService) {
	addr := privateBus(t)
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &fakeService{mode: mode}
	const sess = dbus.ObjectPath("/org/freedesktop/secrets/session/s1")
	item := dbus.ObjectPath("/org/freedesktop/secrets/collection/login/1")
	conn.ExportMethodTable(map[string]any{
		"SearchItems": func(attrs map[string]string) ([]dbus.ObjectPath, *dbus.Error) {
			f.note("SearchItems " + attrs["service"] + "/" + attrs["username"])
			switch f.mode {
			case "refuse":
				return nil, errRefused
			case "two items":
				return []dbus.ObjectPath{item, item + "2"}, nil
			}
			return []dbus.ObjectPath{item}, nil
		},
	}, ssLoginPath, ssCollection)
	conn.ExportMethodTable(map[string]any{
		"OpenSession": func(alg string, _ dbus.Variant) (dbus.Variant, dbus.ObjectPath, *dbus.Error) {
			f.note("OpenSession " + alg)
			if f.mode == "refuse" {
				return dbus.MakeVariant(""), "/", errRefused
			}
			return dbus.MakeVariant(""), sess, nil
		},
	}, ssPath, ssService)
	conn.ExportMethodTable(map[string]any{
		"GetSecret": func(s dbus.ObjectPath) (ssSecret, *dbus.Error) {
			f.note("GetSecret")
			return ssSecret{Session: s, Parameters: []byte{}, Value: []byte("dmFsdWU="), ContentType: "text/plain"}, nil
		},
	}, item, ssItem)
	conn.ExportMethodTable(map[string]any{
		"Close": func() *dbus.Error { f.note("Close"); return nil },
	}, sess, ssSession)
	if r, err := conn.RequestName(ssName, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("request name: %v %v", r, err)
	}
	return addr, f
}

func TestLeanReadFake(t *testing.T) {
	for _, tt := range []struct {
		mode  string
		ok    bool
		calls []string
	}{
		{"ok", true, []string{"SearchItems sesame/default", "OpenSession plain", "GetSecret", "Close"}},
		{"two items", false, []string{"SearchItems sesame/default", "OpenSession plain", "Close"}},
		{"refuse", false, []string{"SearchItems sesame/default", "OpenSession plain"}},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			addr, f := startFake(t, tt.mode)
			v, ok := secretServiceRead(addr, "sesame", "default")
			if ok != tt.ok || ok && v != "dmFsdWU=" {
				t.Fatalf("secretServiceRead = %q, %v; want ok=%v", v, ok, tt.ok)
			}
			// The session is closed before the read returns: nothing left
			// behind. The fake serves calls concurrently: order aside.
			got := f.calls()
			for i := 0; i < 100 && len(got) < len(tt.calls); i++ { // Close is not waited for
				time.Sleep(10 * time.Millisecond)
				got = f.calls()
			}
			slices.Sort(got)
			slices.Sort(tt.calls)
			if !reflect.DeepEqual(got, tt.calls) {
				t.Errorf("calls = %q, want %q", got, tt.calls)
			}
		})
	}
}

// A service that refuses the pipelined calls: Get ends where go-keyring's
// path alone ends.
func TestLeanReadFallbackOnRefusal(t *testing.T) {
	addr, _ := startFake(t, "refuse")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	lean := NewKeychain(KeychainOptions{LeanRead: true, Timeout: 3 * time.Second})
	if lean.fast == nil {
		t.Fatal("LeanRead did not enable the lean read")
	}
	_, errLean := lean.Get("default")
	_, errPlain := NewKeychain(KeychainOptions{Timeout: 3 * time.Second}).Get("default")
	sameError(t, errLean, errPlain)
}

func sameError(t *testing.T, got, want error) {
	t.Helper()
	if want == nil || got == nil || reflect.TypeOf(errors.Unwrap(got)) != reflect.TypeOf(errors.Unwrap(want)) ||
		fmt.Sprintf("%T %v", got, got) != fmt.Sprintf("%T %v", want, want) {
		t.Fatalf("lean path: %T %v\nplain path: %T %v", got, got, want, want)
	}
}

// The tests below run against the real gnome-keyring:
//
//	SESAME_E2E=1 scripts/with-keyring go test ./internal/store -run LeanRead -count=1
//
// Each runs again in a process of its own, on a Secret Service of its own
// (scripts/with-keyring starts a new bus and keyring): other tests in this
// package replace go-keyring's provider with its mock (keyring.MockInit),
// which has no undo, and the locked-collection test must not lock the
// keyring that other packages' tests use at the same time. inParent
// reports that the child ran the test (and that the caller must return).
func requireKeyring(t *testing.T) (service string, inParent bool) {
	t.Helper()
	if os.Getenv("SESAME_E2E") != "1" || os.Getenv("SESAME_KEYRING_INNER") != "1" && os.Getenv("SESAME_STORE_FRESH_PROCESS") != "1" {
		t.Skip("needs the private gnome-keyring: SESAME_E2E=1 scripts/with-keyring go test ...")
	}
	if os.Getenv("SESAME_STORE_FRESH_PROCESS") != "1" {
		cmd := exec.Command("../../scripts/with-keyring", os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "SESAME_KEYRING_INNER=") && !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "SESAME_STORE_FRESH_PROCESS=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
			t.Fatalf("%s in a fresh process: %v\n%s", t.Name(), err, out)
		}
		return "", true
	}
	service = fmt.Sprintf("sesame-lean-test-%d", time.Now().UnixNano())
	t.Cleanup(func() { keyring.DeleteAll(service) })
	return service, false
}

func TestLeanReadGnomeKeyringValues(t *testing.T) {
	service, inParent := requireKeyring(t)
	if inParent {
		return
	}
	for _, tt := range []struct {
		name  string
		size  int
		chunk int
	}{{"small", 2000, 0}, {"chunked", 9000, 2560}} {
		t.Run(tt.name, func(t *testing.T) {
			value := bytes.Repeat([]byte("token-"), tt.size/6)
			plain := NewKeychain(KeychainOptions{Service: service, ChunkSize: tt.chunk})
			if err := plain.Set(tt.name, value); err != nil {
				t.Fatal(err)
			}
			lean := NewKeychain(KeychainOptions{Service: service, ChunkSize: tt.chunk, LeanRead: true})
			got, err := lean.Get(tt.name)
			if err != nil || !bytes.Equal(got, value) {
				t.Fatalf("lean Get = %d bytes, %v; want %d bytes", len(got), err, len(value))
			}
			want, err := plain.Get(tt.name)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("go-keyring Get differs: %v", err)
			}
			// The lean read itself answered, with go-keyring's value.
			raw, ok := secretServiceRead("", service, tt.name)
			gkr, _ := keyring.Get(service, tt.name)
			if !ok || raw != gkr {
				t.Fatalf("secretServiceRead ok=%v, equal to go-keyring's: %v", ok, raw == gkr)
			}
		})
	}
}

func TestLeanReadGnomeKeyringMissingAndDamaged(t *testing.T) {
	service, inParent := requireKeyring(t)
	if inParent {
		return
	}
	lean := NewKeychain(KeychainOptions{Service: service, LeanRead: true})
	plain := NewKeychain(KeychainOptions{Service: service})
	if _, err := lean.Get("missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v, want ErrNotFound", err)
	}
	for name, raw := range map[string]string{
		"direct":   "not base64 at all",
		"header":   "sesame-chunked/v1 gen=0123456789abcdef n=2",
		"checksum": "sesame-chunked/v1 gen=0123456789abcdef n=1 sha256=" + strings.Repeat("0", 64),
	} {
		if err := keyring.Set(service, name, raw); err != nil {
			t.Fatal(err)
		}
		if name == "checksum" {
			keyring.Set(service, name+"#0123456789abcdef.0", "dmFsdWU=")
		}
		_, errLean := lean.Get(name)
		_, errPlain := plain.Get(name)
		var ce *CorruptError
		if !errors.As(errLean, &ce) {
			t.Errorf("%s: %v, want *CorruptError", name, errLean)
		}
		sameError(t, errLean, errPlain)
	}
}

// A locked collection: the lean read steps aside (it never unlocks) and Get
// ends where go-keyring's path ends.
func TestLeanReadGnomeKeyringLocked(t *testing.T) {
	service, inParent := requireKeyring(t)
	if inParent {
		return
	}
	plain := NewKeychain(KeychainOptions{Service: service, Timeout: 3 * time.Second})
	if err := plain.Set("default", []byte("value")); err != nil {
		t.Fatal(err)
	}
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() }) // after unlockLogin's clean-up
	if err := conn.Auth(nil); err != nil {
		t.Fatal(err)
	}
	if err := conn.Hello(); err != nil {
		t.Fatal(err)
	}
	svc := conn.Object(ssName, ssPath)
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	if err := svc.Call(ssService+".Lock", 0, []dbus.ObjectPath{ssLoginPath}).Store(&locked, &prompt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unlockLogin(t, conn) })
	if _, ok := secretServiceRead("", service, "default"); ok {
		t.Fatal("the lean read answered from a locked collection")
	}
	lean := NewKeychain(KeychainOptions{Service: service, Timeout: 3 * time.Second, LeanRead: true})
	_, errLean := lean.Get("default")
	unlockLogin(t, conn) // a prompt may have been left waiting
	if err := svc.Call(ssService+".Lock", 0, []dbus.ObjectPath{ssLoginPath}).Store(&locked, &prompt); err != nil {
		t.Fatal(err)
	}
	_, errPlain := plain.Get("default")
	t.Logf("locked: %v", errLean)
	sameError(t, errLean, errPlain)
}

// unlockLogin unlocks the throwaway login keyring with its password
// (scripts/with-keyring) through gnome-keyring's own interface, which
// needs no prompt.
func unlockLogin(t *testing.T, conn *dbus.Conn) {
	svc := conn.Object(ssName, ssPath)
	var out dbus.Variant
	var sess dbus.ObjectPath
	if err := svc.Call(ssService+".OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&out, &sess); err != nil {
		t.Fatal(err)
	}
	defer conn.Object(ssName, sess).Call(ssSession+".Close", 0)
	secret := ssSecret{Session: sess, Parameters: []byte{}, Value: []byte("throwaway-keyring"), ContentType: "text/plain"}
	err := svc.Call("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.UnlockWithMasterPassword", 0,
		dbus.ObjectPath(ssLoginPath), secret).Err
	if err != nil {
		t.Fatalf("unlock: %v", err)
	}
}

//go:build linux

package store

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
)

// Secret Service helpers of the KeePassXC tests (keepassxc_linux_test.go):
// the lean read's calls one at a time, to name the step a service refuses;
// listing sessions; locking and unlocking; creating an item as another
// process would.

// sessions lists the service's open sessions: the children of
// /org/freedesktop/secrets/session (an object that KeePassXC, like
// gnome-keyring, has only while a session is open).
func sessions(t *testing.T, conn *dbus.Conn) []string {
	t.Helper()
	node, err := introspect.Call(conn.Object(ssName, ssPath+"/session"))
	var de dbus.Error
	if errors.As(err, &de) && de.Name == "org.freedesktop.DBus.Error.UnknownObject" {
		return nil
	}
	if err != nil {
		t.Fatalf("list sessions: %v", err)
	}
	var names []string
	for _, c := range node.Children {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	return names
}

// noSessionLeft waits a little for the sessions to be those of before: the
// lean read does not wait for its Close to be answered.
func noSessionLeft(t *testing.T, conn *dbus.Conn, before []string) {
	t.Helper()
	var now []string
	for range 50 {
		if now = sessions(t, conn); slices.Equal(now, before) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("sessions left open: %q, before: %q", now, before)
}

// leanSteps makes the lean read's calls one at a time and tells where the
// service turns it away, with the D-Bus error name: "" when it would answer.
func leanSteps(conn *dbus.Conn, service, user string) string {
	var items []dbus.ObjectPath
	attrs := map[string]string{"username": user, "service": service}
	if err := conn.Object(ssName, ssLoginPath).Call(ssCollection+".SearchItems", 0, attrs).Store(&items); err != nil {
		return "SearchItems: " + errName(err)
	}
	if len(items) != 1 {
		return fmt.Sprintf("SearchItems: %d items", len(items))
	}
	var out dbus.Variant
	var session dbus.ObjectPath
	if err := conn.Object(ssName, ssPath).Call(ssService+".OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&out, &session); err != nil {
		return "OpenSession: " + errName(err)
	}
	defer conn.Object(ssName, session).Call(ssSession+".Close", 0)
	var secret ssSecret
	if err := conn.Object(ssName, items[0]).Call(ssItem+".GetSecret", 0, session).Store(&secret); err != nil {
		return "GetSecret: " + errName(err)
	}
	return ""
}

func errName(err error) string {
	var de dbus.Error
	if errors.As(err, &de) {
		return de.Name
	}
	return err.Error()
}

// runPrompt shows prompt, if any, and waits for it to complete: KeePassXC
// answers some calls with a prompt even when it asks nobody anything.
func runPrompt(t *testing.T, conn *dbus.Conn, prompt dbus.ObjectPath) {
	t.Helper()
	if prompt == "/" {
		return
	}
	signals := make(chan *dbus.Signal, 8)
	conn.Signal(signals)
	defer conn.RemoveSignal(signals)
	match := []dbus.MatchOption{dbus.WithMatchObjectPath(prompt), dbus.WithMatchMember("Completed")}
	if err := conn.AddMatchSignal(match...); err != nil {
		t.Fatal(err)
	}
	defer conn.RemoveMatchSignal(match...)
	if err := conn.Object(ssName, prompt).Call("org.freedesktop.Secret.Prompt.Prompt", 0, "").Err; err != nil {
		t.Fatalf("prompt: %v", err)
	}
	timeout := time.After(5 * time.Second)
	for {
		select {
		case s := <-signals:
			if s.Path != prompt || s.Name != "org.freedesktop.Secret.Prompt.Completed" {
				continue
			}
			if dismissed, _ := s.Body[0].(bool); dismissed {
				t.Fatal("prompt dismissed")
			}
			return
		case <-timeout:
			t.Fatal("prompt did not complete")
		}
	}
}

// lockCollection locks the collection through the Secret Service, whose
// Lock KeePassXC answers with a prompt that completes without a person.
func lockCollection(t *testing.T, conn *dbus.Conn) {
	t.Helper()
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	err := conn.Object(ssName, ssPath).Call(ssService+".Lock", 0, []dbus.ObjectPath{ssLoginPath}).Store(&locked, &prompt)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	runPrompt(t, conn, prompt)
	var v dbus.Variant
	if err := conn.Object(ssName, ssLoginPath).Call("org.freedesktop.DBus.Properties.Get", 0, ssCollection, "Locked").Store(&v); err != nil || v.Value() != true {
		t.Fatalf("collection not locked: %v %v", v, err)
	}
}

// unlockDatabase unlocks the database through KeePassXC's own interface,
// which takes the password and needs no dialog.
func unlockDatabase(t *testing.T, conn *dbus.Conn) {
	t.Helper()
	err := conn.Object("org.keepassxc.KeePassXC.MainWindow", "/keepassxc").Call("org.keepassxc.KeePassXC.MainWindow.openDatabase", 0,
		os.Getenv("SESAME_KEEPASSXC_DB"), os.Getenv("SESAME_KEEPASSXC_PASSWORD")).Err
	if err != nil {
		t.Fatalf("unlock: %v", err)
	}
	for range 250 {
		var v dbus.Variant
		err := conn.Object(ssName, ssLoginPath).Call("org.freedesktop.DBus.Properties.Get", 0, ssCollection, "Locked").Store(&v)
		if err == nil && v.Value() == false {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the database stayed locked")
}

// createItem stores an item as go-keyring does, through conn.
func createItem(t *testing.T, conn *dbus.Conn, service, user, secret string) {
	t.Helper()
	var out dbus.Variant
	var session dbus.ObjectPath
	if err := conn.Object(ssName, ssPath).Call(ssService+".OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&out, &session); err != nil {
		t.Fatal(err)
	}
	defer conn.Object(ssName, session).Call(ssSession+".Close", 0)
	props := map[string]dbus.Variant{
		ssItem + ".Label":      dbus.MakeVariant("Password for '" + user + "' on '" + service + "'"),
		ssItem + ".Attributes": dbus.MakeVariant(map[string]string{"username": user, "service": service}),
	}
	value := ssSecret{Session: session, Parameters: []byte{}, Value: []byte(secret), ContentType: "text/plain; charset=utf8"}
	var item, prompt dbus.ObjectPath
	if err := conn.Object(ssName, ssLoginPath).Call(ssCollection+".CreateItem", 0, props, value, true).Store(&item, &prompt); err != nil {
		t.Fatalf("CreateItem: %v", err)
	}
	runPrompt(t, conn, prompt)
}

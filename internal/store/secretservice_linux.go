//go:build linux

package store

import (
	"errors"
	"os"

	dbus "github.com/godbus/dbus/v5"
)

// A lean Secret Service read for the common case: an unlocked login
// collection holding exactly one matching item. go-keyring's Get sends 8
// messages one after another (Hello, Properties.Get, Unlock, SearchItems,
// OpenSession, Unlock, GetSecret, Session.Close); this pipelines Hello,
// SearchItems and OpenSession("plain"), then GetSecret, then closes the
// session, on one private connection, and never unlocks. Anything it does
// not expect — an error, a locked item, no match or several, a reply of
// another shape — reports !ok and the caller takes go-keyring's path, so
// correctness never depends on this shortcut.
// https://specifications.freedesktop.org/secret-service-spec/latest/

const (
	ssName      = "org.freedesktop.secrets"
	ssPath      = "/org/freedesktop/secrets"
	ssLoginPath = "/org/freedesktop/secrets/collection/login"
	// ssDefaultPath is the default collection's alias, which go-keyring
	// uses when there is no login collection.
	ssDefaultPath = "/org/freedesktop/secrets/aliases/default"
	ssService     = "org.freedesktop.Secret.Service"
	ssCollection  = "org.freedesktop.Secret.Collection"
	ssItem        = "org.freedesktop.Secret.Item"
	ssSession     = "org.freedesktop.Secret.Session"
)

// ssSecret is the Secret struct of the spec: (oayays).
type ssSecret struct {
	Session     dbus.ObjectPath
	Parameters  []byte
	Value       []byte
	ContentType string
}

// newFastRead returns the lean reader, or nil when no session bus is named
// (godbus would otherwise look further, even autolaunch a bus).
func newFastRead() func(service, user string) (string, bool) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return nil
	}
	return func(service, user string) (string, bool) {
		return secretServiceRead("", service, user)
	}
}

// secretServiceRead reads the item go-keyring files under service and
// user (attributes "service" and "username") in the login collection.
// address "" means the session bus.
func secretServiceRead(address, service, user string) (string, bool) {
	var conn *dbus.Conn
	var err error
	if address == "" {
		conn, err = dbus.SessionBusPrivateNoAutoStartup()
	} else {
		conn, err = dbus.Dial(address)
	}
	if err != nil {
		return "", false
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return "", false
	}
	// Hello must be the first message on the bus; the next ones may follow
	// before its reply arrives, as the daemon handles them in order.
	hello := conn.BusObject().Go("org.freedesktop.DBus.Hello", 0, nil)
	attrs := map[string]string{"username": user, "service": service}
	search := conn.Object(ssName, ssLoginPath).Go(ssCollection+".SearchItems", 0, nil, attrs)
	open := conn.Object(ssName, ssPath).Go(ssService+".OpenSession", 0, nil, "plain", dbus.MakeVariant(""))

	<-hello.Done
	<-search.Done
	<-open.Done
	var output dbus.Variant
	var session dbus.ObjectPath
	openErr := open.Store(&output, &session)
	if openErr == nil && session.IsValid() && session != "/" {
		defer closeSession(conn, session)
	} else {
		return "", false
	}
	if hello.Err != nil {
		return "", false
	}
	var items []dbus.ObjectPath
	err = search.Store(&items)
	if noSuchObject(err) {
		// No collection called login (KeePassXC names its collections
		// after its databases): go-keyring then uses the default alias,
		// and so does this read, one round trip later.
		err = conn.Object(ssName, ssDefaultPath).Call(ssCollection+".SearchItems", 0, attrs).Store(&items)
	}
	if err != nil || len(items) != 1 {
		return "", false
	}
	var secret ssSecret
	call := conn.Object(ssName, items[0]).Call(ssItem+".GetSecret", 0, session)
	if err := call.Store(&secret); err != nil || secret.Session != session {
		return "", false
	}
	return string(secret.Value), true
}

// noSuchObject reports the answer of a service that has no object at the
// path called: UnknownObject (KeePassXC), or UnknownMethod with "Object
// does not exist" (gnome-keyring).
func noSuchObject(err error) bool {
	var de dbus.Error
	if !errors.As(err, &de) {
		return false
	}
	return de.Name == "org.freedesktop.DBus.Error.UnknownObject" || de.Name == "org.freedesktop.DBus.Error.UnknownMethod"
}

// closeSession closes the session without waiting for the answer: the
// call is written to the socket before Go returns from it, and the service
// handles a connection's messages in order, so the session is gone before
// the service even sees the connection close (which would free it too).
func closeSession(conn *dbus.Conn, session dbus.ObjectPath) {
	conn.Object(ssName, session).Go(ssSession+".Close", dbus.FlagNoReplyExpected, nil)
}

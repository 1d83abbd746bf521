package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// What go-keyring does on the Secret Service (zalando/go-keyring,
// keyring_unix.go): Set is one CreateItem (replace=true) with the attributes
// service and username; Delete is a SearchItems for the same attributes, then
// Item.Delete on the result. A D-Bus monitor sees those calls as they go to
// gnome-keyring, which is how the kill -9 test strikes during a write.
const (
	ssCreateItem  = "org.freedesktop.Secret.Collection.CreateItem"
	ssSearchItems = "org.freedesktop.Secret.Collection.SearchItems"
	ssItemDelete  = "org.freedesktop.Secret.Item.Delete"
	ssAttributes  = "org.freedesktop.Secret.Item.Attributes"
)

// keychainWrite is one write call a process sent to the Secret Service.
type keychainWrite struct {
	Sender   string
	Op       string // "set" or "delete"
	User     string // the keychain entry (go-keyring's username)
	Answered bool   // gnome-keyring's answer went out
	serial   uint32
}

func (w keychainWrite) String() string { return w.Op + " " + w.User }

// writeState is what a process's keychain writes were at one moment.
type writeState struct{ sent, answered int }

// inProgress: a write call had gone out and its answer had not.
func (s writeState) inProgress() bool { return s.sent > s.answered }

// keychainMonitor watches the session bus (BecomeMonitor, D-Bus 1.9.10)
// for the write calls of other processes on entries whose name starts with
// a prefix, and gnome-keyring's answers to them. onWrite runs in the
// monitor's goroutine as soon as a call is seen: while the process waits
// for gnome-keyring's answer to that call, which takes milliseconds.
type keychainMonitor struct {
	conn *dbus.Conn
	own  *dbus.Conn // the test's own connection (its keychain reads and clean-ups)
	name string     // own's unique name

	mu      sync.Mutex
	marker  string // what reset waits to see
	seen    string // the last marker seen
	markers int
	prefix  string
	writes  []keychainWrite
	onWrite func(writeState)  // sent counts this call
	search  map[string]string // sender → the entry it last searched for
	senders map[string]bool   // who wrote or searched since reset
	gone    map[string]bool   // connections that closed (unique names are never reused)
	changed chan struct{}
}

const markerService = "sesame-e2e-monitor-marker"

func startKeychainMonitor(t *testing.T) *keychainMonitor {
	t.Helper()
	own, err := dbus.SessionBus() // go-keyring's shared connection
	if err != nil {
		t.Fatalf("session bus: %v", err)
	}
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		t.Fatalf("session bus: %v", err)
	}
	if err := conn.Auth(nil); err != nil {
		t.Fatalf("session bus: %v", err)
	}
	if err := conn.Hello(); err != nil {
		t.Fatalf("session bus: %v", err)
	}
	rules := []string{
		"type='method_call',interface='org.freedesktop.Secret.Collection',member='CreateItem'",
		"type='method_call',interface='org.freedesktop.Secret.Collection',member='SearchItems'",
		"type='method_call',interface='org.freedesktop.Secret.Item',member='Delete'",
		"type='method_return',sender='org.freedesktop.secrets'",
		"type='error',sender='org.freedesktop.secrets'",
		"type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged'",
	}
	if call := conn.BusObject().Call("org.freedesktop.DBus.Monitoring.BecomeMonitor", 0, rules, uint32(0)); call.Err != nil {
		conn.Close()
		t.Fatalf("become a D-Bus monitor: %v", call.Err)
	}
	m := &keychainMonitor{conn: conn, own: own, name: own.Names()[0], changed: make(chan struct{}, 1),
		search: map[string]string{}, senders: map[string]bool{}, gone: map[string]bool{}}
	// Messages that do not fit are dropped by godbus: the channel is
	// far larger than one trial's calls.
	ch := make(chan *dbus.Message, 4096)
	conn.Eavesdrop(ch)
	go func() {
		for msg := range ch {
			m.handle(msg)
		}
	}()
	t.Cleanup(func() {
		// Close would close ch while godbus's reader may still send on it
		// (godbus v5.2.2 panics then): detach it first.
		conn.Eavesdrop(nil)
		close(ch)
		conn.Close()
	})
	return m
}

// reset forgets what was seen and watches entries starting with prefix.
// First it has the monitor catch up with the bus: a marker call goes out
// on the test's own connection, and whatever the bus routed before it (a
// late write of the previous process) is seen, and ignored, before it.
func (m *keychainMonitor) reset(t *testing.T, prefix string) {
	t.Helper()
	m.mu.Lock()
	m.prefix, m.onWrite = "", nil
	m.markers++
	m.marker = fmt.Sprintf("marker-%d", m.markers)
	marker := m.marker
	m.mu.Unlock()
	m.own.Object("org.freedesktop.secrets", "/org/freedesktop/secrets/collection/login").
		Call(ssSearchItems, 0, map[string]string{"service": markerService, "username": marker})
	deadline := time.After(5 * time.Second)
	for {
		m.mu.Lock()
		if m.seen == marker {
			m.prefix, m.writes = prefix, nil
			m.search, m.senders = map[string]string{}, map[string]bool{}
			m.mu.Unlock()
			return
		}
		m.mu.Unlock()
		select {
		case <-m.changed:
		case <-deadline:
			t.Fatal("the D-Bus monitor did not see its marker within 5s")
		}
	}
}

func (m *keychainMonitor) handle(msg *dbus.Message) {
	sender, _ := msg.Headers[dbus.FieldSender].Value().(string)
	member, _ := msg.Headers[dbus.FieldMember].Value().(string)
	iface, _ := msg.Headers[dbus.FieldInterface].Value().(string)
	m.mu.Lock()
	defer m.mu.Unlock()
	if msg.Type == dbus.TypeMethodReply || msg.Type == dbus.TypeError {
		dest, _ := msg.Headers[dbus.FieldDestination].Value().(string)
		serial, _ := msg.Headers[dbus.FieldReplySerial].Value().(uint32)
		for i, w := range m.writes {
			if w.Sender == dest && w.serial == serial {
				m.writes[i].Answered = true
			}
		}
		return
	}
	if msg.Type == dbus.TypeSignal {
		// NameOwnerChanged(name, old owner, new owner): "" as the new owner
		// of a unique name means that connection closed.
		if len(msg.Body) == 3 {
			name, _ := msg.Body[0].(string)
			if newOwner, _ := msg.Body[2].(string); newOwner == "" && strings.HasPrefix(name, ":") {
				m.gone[name] = true
				m.notify()
			}
		}
		return
	}
	if sender == m.name {
		if iface+"."+member == ssSearchItems && len(msg.Body) > 0 {
			if attrs, _ := msg.Body[0].(map[string]string); attrs["service"] == markerService {
				m.seen = attrs["username"]
				m.notify()
			}
		}
		return
	}
	if m.prefix == "" {
		return
	}
	var w keychainWrite
	switch iface + "." + member {
	case ssCreateItem:
		if len(msg.Body) == 0 {
			return
		}
		props, _ := msg.Body[0].(map[string]dbus.Variant)
		attrs, _ := props[ssAttributes].Value().(map[string]string)
		w = keychainWrite{Sender: sender, Op: "set", User: attrs["username"], serial: msg.Serial()}
	case ssSearchItems:
		if len(msg.Body) == 0 {
			return
		}
		attrs, _ := msg.Body[0].(map[string]string)
		if strings.HasPrefix(attrs["username"], m.prefix) {
			m.search[sender] = attrs["username"]
			m.senders[sender] = true
		}
		return
	case ssItemDelete:
		w = keychainWrite{Sender: sender, Op: "delete", User: m.search[sender], serial: msg.Serial()}
	default:
		return
	}
	if !strings.HasPrefix(w.User, m.prefix) {
		return
	}
	m.senders[sender] = true
	m.writes = append(m.writes, w)
	if m.onWrite != nil {
		m.onWrite(m.stateLocked())
	}
	m.notify()
}

func (m *keychainMonitor) stateLocked() writeState {
	s := writeState{sent: len(m.writes)}
	for _, w := range m.writes {
		if w.Answered {
			s.answered++
		}
	}
	return s
}

// state is where the writes stand now.
func (m *keychainMonitor) state() writeState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stateLocked()
}

func (m *keychainMonitor) notify() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// strike has onWrite called for each write call from now on.
func (m *keychainMonitor) strike(onWrite func(writeState)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.onWrite = onWrite
}

// settle waits until every process seen since reset has closed its
// connection, so the calls it sent are all in, and returns them.
func (m *keychainMonitor) settle(t *testing.T) []keychainWrite {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		m.mu.Lock()
		open := 0
		for s := range m.senders {
			if !m.gone[s] {
				open++
			}
		}
		writes := append([]keychainWrite(nil), m.writes...)
		m.mu.Unlock()
		if open == 0 {
			return writes
		}
		select {
		case <-m.changed:
		case <-deadline:
			t.Fatalf("%d keychain clients still connected 5s after their process ended", open)
		}
	}
}

// keychainUsers lists the entries (go-keyring usernames) of a service.
func keychainUsers(t *testing.T, service string) []string {
	t.Helper()
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatal(err)
	}
	var unlocked, locked []dbus.ObjectPath
	err = conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").
		Call("org.freedesktop.Secret.Service.SearchItems", 0, map[string]string{"service": service}).
		Store(&unlocked, &locked)
	if err != nil {
		t.Fatalf("list the keychain: %v", err)
	}
	var users []string
	for _, p := range append(unlocked, locked...) {
		v, err := conn.Object("org.freedesktop.secrets", p).GetProperty(ssAttributes)
		if err != nil {
			continue // deleted meanwhile
		}
		if attrs, ok := v.Value().(map[string]string); ok {
			users = append(users, attrs["username"])
		}
	}
	return users
}

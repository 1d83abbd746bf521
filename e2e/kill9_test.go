package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/sesame-cli/sesame/internal/store"
)

// kill -9 at random points of `sesame token`, `sesame refresh` and `sesame
// login`, and during the writes of `sesame token --resource`, whose token
// (227 KB: a provider that pads its JWTs) the keychain store splits into
// chunks: every entry reads back whole, as the old or the new value, never
// a mix or garbage. A D-Bus monitor sees each keychain write call as it
// goes to gnome-keyring and strikes right then, and the wait status says
// whether the kill landed. A chunked write cut before its head leaves its
// new chunks behind, unreachable: listing the keychain after the kill
// finds them, which proves the write was interrupted.
func TestKill9LeavesStoreWhole(t *testing.T) {
	requireE2E(t)
	const resource = "https://big.example.test"
	kinds := []string{"token", "refresh", "login", "resource"}
	trials := map[string]int{"token": 40, "refresh": 20, "login": 6, "resource": 34}
	if v, err := strconv.Atoi(os.Getenv("SESAME_E2E_CRASH_TRIALS")); err == nil {
		trials = map[string]int{"token": v * 4 / 10, "refresh": v * 2 / 10, "login": max(v*6/100, 2), "resource": v * 34 / 100}
	}
	// 170,000 bytes of padding make a 227 KB JWT and a 303 KB entry: two
	// chunks of DefaultChunkSize("linux"), 256 KiB.
	idp := startIdP(t, "--access-token-ttl", "10", "--access-token-padding", "170000")
	e := newEnv(t)
	mon := startKeychainMonitor(t)
	k := &killTrials{t: t, e: e, idp: idp, mon: mon, kc: store.NewKeychain(store.KeychainOptions{}),
		resource: resource, derived: derivedKey(e.Profile, resource)}
	k.login()
	k.warmUp()

	deadline := time.Now().Add(4 * time.Minute)
	stats := map[string]*killTally{}
	for _, kind := range kinds {
		st := &killTally{}
		stats[kind] = st
		start := time.Now()
		for i := 0; i < trials[kind] && time.Now().Before(deadline); i++ {
			k.trial(kind, i, st)
		}
		st.took = time.Since(start)
	}

	total := killTally{}
	for _, kind := range kinds {
		st := stats[kind]
		total.add(st)
		t.Logf("kill -9 of sesame %-8s %3d trials in %2s: %3d killed (%d exited first): %2d before any keychain write, %2d with a write call unanswered, %2d after their writes were answered; the login's entry old %3d, new %3d; %d new logins",
			kind+":", st.trials, st.took.Round(time.Second), st.killed, st.exited, st.beforeWrite, st.inWrite, st.afterWrite, st.old, st.changed, st.relogins)
	}
	rs := stats["resource"]
	t.Logf("the chunked resource token: %d writes cut before their head (with %v chunks of %d written), %d cut while deleting the previous chunks; it read back old %d, new %d times",
		rs.chunkedCut, rs.cutAt, k.chunks, rs.cleanupCut, rs.derivedOld, rs.derivedNew)
	t.Logf("%d kill -9 trials, %d killed, %d of them while a keychain write was in progress, %d chunked writes interrupted before their head; every entry read back whole",
		total.trials, total.killed, total.inWrite, total.chunkedCut)
	for _, kind := range kinds {
		if st := stats[kind]; st.killed == 0 {
			t.Errorf("no %s trial was killed", kind)
		}
	}
	for _, kind := range []string{"token", "refresh", "resource"} {
		if stats[kind].inWrite == 0 {
			t.Errorf("no %s trial was killed with its keychain write under way", kind)
		}
	}
	if stats["resource"].chunkedCut == 0 {
		t.Error("no chunked write was interrupted: nothing shows that a torn write reads back whole")
	}
}

type killTally struct {
	trials, killed, exited int
	// When the kill was sent: before any keychain write call of the
	// trial, with one gone out and not yet answered, or with all answered.
	beforeWrite, inWrite, afterWrite int
	chunkedCut                       int // a chunked write cut before its head: new chunks left unreachable
	cleanupCut                       int // killed after the head, before the old chunks were deleted
	old, changed, relogins           int
	derivedOld, derivedNew           int         // the resource token after the kill
	cutAt                            map[int]int // chunks written when a chunked write was cut
	took                             time.Duration
}

func (s *killTally) add(o *killTally) {
	s.trials += o.trials
	s.killed += o.killed
	s.exited += o.exited
	s.beforeWrite += o.beforeWrite
	s.inWrite += o.inWrite
	s.afterWrite += o.afterWrite
	s.chunkedCut += o.chunkedCut
	s.cleanupCut += o.cleanupCut
	s.old += o.old
	s.changed += o.changed
	s.relogins += o.relogins
}

type killTrials struct {
	t        *testing.T
	e        *Env
	idp      *IdP
	mon      *keychainMonitor
	kc       *store.Keychain
	resource string
	derived  string // the keychain entry of the resource token
	chunks   int    // how many chunks the resource token takes
}

// derivedKey is where sesame keeps the token for a resource
// (session.Target.key, which is unexported).
func derivedKey(profile, resource string) string {
	sum := sha256.Sum256([]byte("\n" + resource))
	return profile + "/token/" + hex.EncodeToString(sum[:12])
}

func (k *killTrials) login() {
	k.t.Helper()
	if r := k.e.login(k.idp, "--resource", k.resource); r.Code != 0 {
		k.t.Fatalf("login: %s", r.Stderr)
	}
}

// warmUp stores the resource token twice without a kill, to learn how
// many write calls a refresh of it takes: the login's entry, the chunks,
// the head, and the deletion of the previous chunks.
func (k *killTrials) warmUp() {
	k.t.Helper()
	calls := 0
	for range 2 {
		k.mon.reset(k.t, k.e.Profile)
		k.e.mustRun("token", "--resource", k.resource, "--min-ttl", "1h")
		calls = len(k.mon.settle(k.t))
	}
	head, err := keyring.Get("sesame", k.derived)
	if err != nil || !strings.HasPrefix(head, "sesame-chunked/") {
		k.t.Fatalf("the resource token is not stored in chunks (%v): %.60s", err, head)
	}
	k.chunks = len(k.chunkGens()[chunkGen(head)])
	if want := 1 + k.chunks + 1 + k.chunks; calls != want {
		k.t.Fatalf("a refresh of the resource token made %d keychain write calls, want %d (%d chunks)", calls, want, k.chunks)
	}
}

// trial runs one sesame command, kills it, and checks what it left.
func (k *killTrials) trial(kind string, i int, st *killTally) {
	t, e := k.t, k.e
	t.Helper()
	// A kill after the provider rotated the refresh token but before the
	// store was written leaves a spent refresh token: the grant is then
	// gone (reuse detection) and only a new login helps.
	if e.stored() == "" || e.run("refresh").Code == 4 {
		k.login()
		st.relogins++
	}
	before := k.read(e.Profile)
	var beforeDerived []byte
	if kind == "resource" {
		beforeDerived = k.read(k.derived) // 300 KB: only where it is checked
	}
	beforeGen := chunkGen(k.rawHead(k.derived))
	k.idp.issued(t) // what the provider issues from here on is this trial's

	// The login's entry, the chunks, the head, and (when there is a
	// previous token) the deletion of its chunks.
	calls := 2 + k.chunks
	if beforeGen != "" {
		calls += k.chunks
	}
	strikeAt := 1 + rand.IntN(calls)
	if kind != "resource" {
		strikeAt = 1 // the login's entry: one call
		if i%2 == 0 {
			strikeAt = 0 // at a random time instead
		}
	}
	killed, atKill, writes := k.kill(kind, strikeAt)

	st.trials++
	switch {
	case !killed:
		st.exited++
	case atKill.sent == 0:
		st.killed++
		st.beforeWrite++
	case atKill.inProgress():
		st.killed++
		st.inWrite++
	default:
		st.killed++
		st.afterWrite++
	}
	issued := secretSet{}
	for _, s := range k.idp.issued(t) {
		issued.add(s.Kind, s.Value)
	}
	where := fmt.Sprintf("%s trial %d (writes seen: %v)", kind, i, writes)
	k.checkLogin(where, before, issued, st)
	if kind == "resource" {
		k.checkResource(where, beforeDerived, issued, st)
	}
	k.clearChunks(where, beforeGen, writes, st)
}

// kill runs sesame for one kind of trial and kills it as its strikeAt-th
// keychain write call goes out, or, for 0, at a random time. It reports
// whether SIGKILL ended the process, where its writes stood when the kill
// was sent, and the write calls it made.
func (k *killTrials) kill(kind string, strikeAt int) (bool, writeState, []keychainWrite) {
	t, e := k.t, k.e
	t.Helper()
	args := map[string][]string{
		"token":    {"token", "--min-ttl", "1h"}, // an exact --min-ttl: always refresh
		"refresh":  {"refresh"},
		"login":    {"login", "--issuer", k.idp.Issuer, "--client-id", "sesame-cli", "--resource", k.resource, "--timeout", "30s"},
		"resource": {"token", "--resource", k.resource, "--min-ttl", "1h"},
	}[kind]
	os.Remove(e.BrowserLog)
	k.mon.reset(t, e.Profile)
	cmd := exec.Command(sesameBin, args...)
	cmd.Env = e.environ()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr

	var mu sync.Mutex
	var proc *os.Process
	var atKill writeState
	kill := func(s writeState) {
		mu.Lock()
		defer mu.Unlock()
		if proc != nil {
			atKill = s
			proc.Signal(syscall.SIGKILL)
		}
	}
	if strikeAt > 0 {
		k.mon.strike(func(s writeState) {
			if s.sent == strikeAt {
				kill(s)
			}
		})
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	proc = cmd.Process
	mu.Unlock()
	if strikeAt == 0 {
		window := map[string]int{"token": 50, "refresh": 50, "login": 3000}[kind]
		time.Sleep(time.Duration(rand.IntN(window)) * time.Millisecond) // a random point, not a wait
		kill(k.mon.state())
	}
	err := cmd.Wait()
	writes := k.mon.settle(t)
	recordOutput(args, "", stderr.String())
	return killedBySIGKILL(err), atKill, writes
}

// checkLogin: the login's entry reads back whole, as the old one or with
// tokens the provider issued in this trial. (A resource refresh keeps the
// login's access token: only the refresh token is new.)
func (k *killTrials) checkLogin(where string, before []byte, issued secretSet, st *killTally) {
	t := k.t
	t.Helper()
	after := k.read(k.e.Profile)
	tk, err := decodeLogin(after)
	if err != nil {
		t.Fatalf("%s: the login's entry does not read back whole: %v\n%.200s", where, err, after)
	}
	was, _ := decodeLogin(before)
	switch {
	case bytes.Equal(after, before):
		st.old++
	case tk.Ended != nil ||
		issued[tk.RefreshToken] == "refresh token" && (tk.AccessToken == was.AccessToken || issued[tk.AccessToken] != ""):
		st.changed++
	default:
		t.Fatalf("%s: the login's entry changed, but not to tokens the provider issued in this trial", where)
	}
}

// checkResource: the resource token is absent only if it was, else whole,
// and the old one or one the provider issued in this trial for it.
func (k *killTrials) checkResource(where string, before []byte, issued secretSet, st *killTally) {
	t := k.t
	t.Helper()
	after := k.read(k.derived)
	switch {
	case after == nil && before != nil:
		t.Fatalf("%s: the resource token is gone", where)
	case after == nil, bytes.Equal(after, before):
		st.derivedOld++
		return
	}
	st.derivedNew++
	var d struct {
		Version     int    `json:"version"`
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(after, &d); err != nil || d.Version != 1 || issued[d.AccessToken] != "access token" {
		t.Fatalf("%s: the resource token changed, but not to one the provider issued in this trial: %v", where, err)
	}
	if aud := jwtClaims(t, d.AccessToken)["aud"]; aud != k.resource {
		t.Fatalf("%s: the new resource token is for %v", where, aud)
	}
}

// clearChunks counts the resource token's chunks that no head names, and
// deletes them (sesame leaves them, unreachable, after a kill). Chunks of
// a new generation behind an unchanged head are a write cut before its
// head; those of the previous head, a deletion cut short.
func (k *killTrials) clearChunks(where, beforeGen string, writes []keychainWrite, st *killTally) {
	t := k.t
	t.Helper()
	afterGen := chunkGen(k.rawHead(k.derived))
	for gen, names := range k.chunkGens() {
		switch {
		case gen == afterGen:
			continue
		case gen == beforeGen:
			st.cleanupCut++
		default:
			if afterGen != beforeGen {
				t.Fatalf("%s: chunks of generation %s are left although the head moved to %s", where, gen, afterGen)
			}
			st.chunkedCut++
			if st.cutAt == nil {
				st.cutAt = map[int]int{}
			}
			st.cutAt[len(names)]++
			if !sentChunks(writes, k.derived+"#"+gen) {
				t.Errorf("%s: the monitor did not see the chunks of generation %s being written", where, gen)
			}
		}
		for _, name := range names {
			keyring.Delete("sesame", name)
		}
	}
}

// killedBySIGKILL reports whether Wait's error is the status of a process
// that SIGKILL ended (a kill sent to a process that had already exited
// succeeds as well, until it is reaped).
func killedBySIGKILL(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// storedLogin is the part of a login's entry the test checks.
type storedLogin struct {
	Version      int             `json:"version"`
	AccessToken  string          `json:"access_token"`
	RefreshToken string          `json:"refresh_token"`
	Ended        json.RawMessage `json:"ended"` // a login the provider ended: no tokens
}

func decodeLogin(b []byte) (storedLogin, error) {
	var tk storedLogin
	err := json.Unmarshal(b, &tk)
	if err == nil && (tk.Version != 1 || (tk.AccessToken == "" || tk.RefreshToken == "") && tk.Ended == nil) {
		err = fmt.Errorf("version %d, access token %t, refresh token %t", tk.Version, tk.AccessToken != "", tk.RefreshToken != "")
	}
	return tk, err
}

// read is an entry as sesame reads it (nil when absent); a torn chunked
// value fails its checksum and the test.
func (k *killTrials) read(key string) []byte {
	k.t.Helper()
	b, err := k.kc.Get(key)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		k.t.Fatalf("the entry %s does not read back whole: %v", key, err)
	}
	return b
}

func (k *killTrials) rawHead(key string) string {
	v, _ := keyring.Get("sesame", key)
	return v
}

// chunkGens lists the resource token's chunk entries by generation.
func (k *killTrials) chunkGens() map[string][]string {
	gens := map[string][]string{}
	for _, u := range keychainUsers(k.t, "sesame") {
		if rest, ok := strings.CutPrefix(u, k.derived+"#"); ok {
			gen, _, _ := strings.Cut(rest, ".")
			gens[gen] = append(gens[gen], u)
		}
	}
	return gens
}

// chunkGen is the generation a head entry names ("" for none).
func chunkGen(head string) string {
	for _, f := range strings.Fields(head) {
		if gen, ok := strings.CutPrefix(f, "gen="); ok {
			return gen
		}
	}
	return ""
}

func sentChunks(writes []keychainWrite, prefix string) bool {
	for _, w := range writes {
		if w.Op == "set" && strings.HasPrefix(w.User, prefix) {
			return true
		}
	}
	return false
}

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The leak checks. Every sesame the suite runs logs with --verbose
// (SESAME_VERBOSE=1); that output, less what a data command printed on
// stdout because it was asked to, is collected here, and so is every
// broker's debug log. What is searched for is every secret the providers
// issued or received (their --secrets files: authorization codes, PKCE
// verifiers, every refresh token including the spent ones, access and ID
// tokens, device codes, client secrets), plus what the keychain held and
// the browser carried. After the suite none may appear in that output nor,
// in clear, in the keyring daemon's files (checkLeaks); after each test
// none may be in the user's files, except a file store's current tokens
// in its 0600 token files (checkFiles).
var leaks = struct {
	sync.Mutex
	output  strings.Builder
	data    strings.Builder // what data commands printed: where secrets belong
	brokers strings.Builder
	secrets secretSet
	live    map[*IdP]bool // providers still running: their files still grow
}{secrets: secretSet{}, live: map[*IdP]bool{}}

// secretSet maps each secret value to its kind ("refresh token", …).
type secretSet map[string]string

// minSecret is the shortest value taken for a secret: shorter ones would
// match by chance.
const minSecret = 8

func (s secretSet) add(kind, v string) {
	if len(v) >= minSecret && s[v] == "" {
		s[v] = kind
	}
}

// byKind counts the secrets of each kind, for reports.
func (s secretSet) byKind() string {
	n := map[string]int{}
	for _, k := range s {
		n[k]++
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(n)) {
		parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
	}
	return strings.Join(parts, ", ")
}

// dataCommands print tokens on stdout because they were asked to.
var dataCommands = map[string]bool{"token": true, "org-token": true, "exec": true, "claims": true}

func recordOutput(args []string, stdout, stderr string) {
	leaks.Lock()
	defer leaks.Unlock()
	leaks.output.WriteString(stderr)
	if len(args) > 0 && !dataCommands[args[0]] {
		leaks.output.WriteString(stdout)
	} else {
		leaks.data.WriteString(stdout)
	}
}

func recordBrokerLog(log string) {
	leaks.Lock()
	defer leaks.Unlock()
	leaks.brokers.WriteString(log)
}

func recordSecret(kind, v string) {
	leaks.Lock()
	defer leaks.Unlock()
	leaks.secrets.add(kind, v)
}

// recordStored notes the tokens in an env's keychain entry.
func (e *Env) recordStored() {
	if e.stored() == "" {
		return
	}
	var tk struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
	}
	if json.Unmarshal(e.decoded(), &tk) == nil {
		recordSecret("access token", tk.AccessToken)
		recordSecret("refresh token", tk.RefreshToken)
		recordSecret("ID token", tk.IDToken)
	}
}

// recordCodes notes the authorization codes the browser stand-in carried.
func (e *Env) recordCodes() {
	for _, l := range strings.Split(e.browserLog(), "\n") {
		var ev struct {
			FinalURL string `json:"final_url"`
		}
		if json.Unmarshal([]byte(l), &ev) == nil && strings.Contains(ev.FinalURL, "code=") {
			recordSecret("authorization code", strings.SplitN(strings.SplitN(ev.FinalURL, "code=", 2)[1], "&", 2)[0])
		}
	}
}

// knownSecrets is every secret seen so far, the running providers' latest
// included.
func knownSecrets(t *testing.T) secretSet {
	leaks.Lock()
	live := slices.Collect(maps.Keys(leaks.live))
	leaks.Unlock()
	for _, p := range live {
		p.issued(t)
	}
	leaks.Lock()
	defer leaks.Unlock()
	return maps.Clone(leaks.secrets)
}

// finder searches a haystack for many secrets at once: each is indexed by
// its last tailLen bytes, so one pass over the haystack does for all of
// them (the suite gathers thousands, some of them 500 KB long).
type finder struct {
	set   secretSet
	tails map[string][]string
	short []string
}

const tailLen = 12

func newFinder(set secretSet) *finder {
	f := &finder{set: set, tails: map[string][]string{}}
	for v := range set {
		if len(v) < tailLen {
			f.short = append(f.short, v)
			continue
		}
		tail := v[len(v)-tailLen:]
		f.tails[tail] = append(f.tails[tail], v)
	}
	return f
}

// find returns the secrets that occur in hay.
func (f *finder) find(hay []byte) []string {
	found := map[string]bool{}
	for i := tailLen; i <= len(hay); i++ {
		for _, v := range f.tails[string(hay[i-tailLen:i])] {
			if i >= len(v) && string(hay[i-len(v):i]) == v {
				found[v] = true
			}
		}
	}
	for _, v := range f.short {
		if bytes.Contains(hay, []byte(v)) {
			found[v] = true
		}
	}
	return slices.Sorted(maps.Keys(found))
}

// describe names a found secret without printing it whole.
func (f *finder) describe(v string) string {
	return fmt.Sprintf("%s %.6s…", f.set[v], v)
}

// checkLeaks reports secrets found in the collected output and in the
// keyring daemon's files; TestMain fails the run when there are any.
func checkLeaks() bool {
	leaks.Lock()
	defer leaks.Unlock()
	if len(leaks.secrets) == 0 {
		return true
	}
	f := newFinder(leaks.secrets)
	ok := true
	search := func(where string, hay []byte) int {
		for _, v := range f.find(hay) {
			fmt.Fprintf(os.Stderr, "e2e: the %s appears in %s\n", f.describe(v), where)
			ok = false
		}
		return len(hay)
	}
	out := search("sesame's verbose output", []byte(leaks.output.String()))
	brokers := search("a broker's debug log", []byte(leaks.brokers.String()))
	// gnome-keyring encrypts its files: no secret may be there in clear.
	keyrings := 0
	if dir := os.Getenv("SESAME_E2E_KEYRING_DIR"); dir != "" {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, err := os.ReadFile(p); err == nil {
					keyrings += search("the keyring daemon's file "+p, b)
				}
			}
			return nil
		})
	}
	// The same search over what data commands printed, which is left out
	// above, must find the tokens they were asked for: proof that it finds
	// what is there.
	inData := len(f.find([]byte(leaks.data.String())))
	if leaks.data.Len() > 0 && inData == 0 {
		fmt.Fprintf(os.Stderr, "e2e: the leak check finds no secret in %d bytes that data commands printed: it would miss leaks too\n", leaks.data.Len())
		ok = false
	}
	fmt.Printf("e2e: leak check: %d secrets (%s) searched in %d bytes of sesame's verbose output, %d bytes of broker debug logs and %d bytes of keyring files; found in none of them, and %d of them in what data commands printed\n",
		len(leaks.secrets), leaks.secrets.byKind(), out, brokers, keyrings, inData)
	fmt.Printf("e2e: %d plain `sesame token` runs went without --verbose (tokencmd.Fast's entry)\n", plainTokenRuns.Load())
	return ok
}

// checkFiles fails the test when a file under the env's home holds a
// secret: with the keychain, no file may hold one; with the file store,
// only the 0600 token files may, and only the tokens they currently hold
// (a spent refresh token must be gone). The browser stand-in's own log,
// which shows the callback it followed, is not sesame's.
func (e *Env) checkFiles() {
	problems, _ := e.leaksInFiles(newFinder(knownSecrets(e.t)))
	for _, p := range problems {
		e.t.Error(p)
	}
}

// leaksInFiles lists the secrets in files under the env's home that must
// not be there, and counts those that may (a file store's current tokens).
func (e *Env) leaksInFiles(f *finder) (problems []string, allowedHits int) {
	tokenDir := filepath.Join(e.Home, ".local", "state", "sesame", "tokens")
	fileStore := e.fileStorage()
	filepath.WalkDir(e.Home, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == e.BrowserLog {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		found := f.find(b)
		if len(found) == 0 {
			return nil
		}
		allowed := map[string]bool{}
		if fi, err := d.Info(); err == nil && fileStore && filepath.Dir(p) == tokenDir &&
			!strings.HasPrefix(d.Name(), ".") && fi.Mode().Perm() == 0o600 {
			var tk map[string]any
			json.Unmarshal(b, &tk)
			for _, field := range []string{"access_token", "refresh_token", "id_token"} {
				if v, ok := tk[field].(string); ok {
					allowed[v] = true
				}
			}
		}
		rel, _ := filepath.Rel(e.Home, p)
		for _, v := range found {
			if allowed[v] {
				allowedHits++
			} else {
				problems = append(problems, fmt.Sprintf("the %s is in the file ~/%s", f.describe(v), rel))
			}
		}
		return nil
	})
	return problems, allowedHits
}

// fileStorage reports whether the env's profile keeps its tokens in files.
func (e *Env) fileStorage() bool {
	b, _ := os.ReadFile(filepath.Join(e.Home, ".config", "sesame", "config.yaml"))
	return bytes.Contains(b, []byte("storage: file"))
}

// withoutDebug drops --verbose lines, so that tests read sesame's messages.
func withoutDebug(stderr string) string {
	var keep []string
	for _, l := range strings.SplitAfter(stderr, "\n") {
		if !strings.HasPrefix(l, "sesame: debug: ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

// The search the leak checks rely on finds every secret wherever it is, a
// long one by its whole value only, and nothing else. It needs no e2e setup.
func TestFinder(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("eHh4", 5000) + ".c2lnbmF0dXJlLW9uZQ"
	set := secretSet{}
	set.add("access token", jwt)
	set.add("refresh token", "rt-0123456789abcdefghijklmnopqrstu")
	set.add("authorization code", "code-123") // shorter than the index's tail
	set.add("ID token", "short")              // too short to be taken
	f := newFinder(set)
	for _, c := range []struct {
		hay  string
		want []string
	}{
		{"", nil},
		{"rt-0123456789abcdefghijklmnopqrstu", []string{"rt-0123456789abcdefghijklmnopqrstu"}},
		{"sesame: debug: POST /token rt-0123456789abcdefghijklmnopqrstu\n", []string{"rt-0123456789abcdefghijklmnopqrstu"}},
		{"?code=code-123&state=x", []string{"code-123"}},
		{"rt-0123456789abcdefghijklmnopqrst", nil},  // cut short
		{"xt-0123456789abcdefghijklmnopqrstu", nil}, // same tail, another value
		{jwt[1:] + " " + jwt[:len(jwt)-1], nil},     // pieces of the JWT
		{"Bearer " + jwt + "code-123", []string{"code-123", jwt}},
		{"short short", nil},
	} {
		got := f.find([]byte(c.hay))
		if !slices.Equal(got, c.want) {
			t.Errorf("find(%.40q) = %.60q, want %.60q", c.hay, got, c.want)
		}
	}
}

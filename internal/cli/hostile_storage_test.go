package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/sesame-cli/sesame/internal/store"
)

// storageCases: storage that cannot be turned against the user. A damaged
// keychain entry is not a dead end; tokens and lock files never land in the
// working directory; a state directory, lock file or config file that
// someone else could have written is refused with the fix.
func storageCases() []hostileCase {
	token := []string{"token"}
	login := func(*hostileBrowser, string, url.Values) bool { return true }
	var chunks []string // the damaged entry's chunk names, set by setup
	damaged := func(h *harness) { chunks = damageKeychain(h) }
	gone := func(t *testing.T, _ *harness, _, _ string) {
		for _, name := range append([]string{"default"}, chunks...) {
			if _, err := keyring.Get(store.DefaultService, name); !errors.Is(err, keyring.ErrNotFound) {
				t.Errorf("keychain entry %q is still there (%v)", name, err)
			}
		}
	}
	const fixes = "`sesame login` replaces them and `sesame logout --no-revoke` removes them"

	var precious string // a lock file's link target, set by setup
	return []hostileCase{
		{surface: "storage", name: "damaged chunked keychain entry: token", setup: damaged, args: token, wantCode: 4,
			want: `the stored tokens for profile "default" are damaged (checksum mismatch); ` + fixes,
			after: func(t *testing.T, h *harness, _, _ string) {
				if _, err := store.NewKeychain(store.KeychainOptions{}).Get("default"); err == nil {
					t.Error("the damaged entry changed")
				}
			}},
		{surface: "storage", name: "damaged chunked keychain entry: login replaces it", setup: damaged, act: login, mayStore: true,
			after: func(t *testing.T, h *harness, _, stderr string) {
				b, err := store.NewKeychain(store.KeychainOptions{}).Get("default")
				var stored struct {
					AccessToken string `json:"access_token"`
				}
				if err != nil || json.Unmarshal(b, &stored) != nil || stored.AccessToken == "" {
					t.Fatalf("after login the entry reads %q, %v\n%s", b, err, stderr)
				}
				for _, name := range chunks {
					if _, err := keyring.Get(store.DefaultService, name); !errors.Is(err, keyring.ErrNotFound) {
						t.Errorf("the damaged entry's chunk %q survived the login", name)
					}
				}
			}},
		{surface: "storage", name: "damaged chunked keychain entry: logout --no-revoke removes it", setup: damaged,
			args: []string{"logout", "--no-revoke"}, mayStore: true, after: gone},
		{surface: "storage", name: "damaged chunked keychain entry: logout removes it", setup: damaged,
			args: []string{"logout"}, mayStore: true, after: gone},

		{surface: "storage", name: "relative XDG_STATE_HOME", act: login, mayStore: true, setup: func(h *harness) {
			h.env["XDG_STATE_HOME"] = "state"
			h.env["SESAME_STORAGE"] = "file"
			h.t.Chdir(h.t.TempDir())
		}, after: func(t *testing.T, h *harness, _, stderr string) {
			assertEmptyCwd(t)
			tokens, _ := filepath.Glob(filepath.Join(h.home, ".local", "state", "sesame", "tokens", "default.*"))
			locks, _ := filepath.Glob(filepath.Join(h.home, ".local", "state", "sesame", "locks", "default.lock"))
			if len(tokens) != 1 || len(locks) != 1 {
				t.Errorf("token files %v, lock files %v; want both under $HOME/.local/state/sesame\n%s", tokens, locks, stderr)
			}
		}},
		{surface: "storage", name: "relative XDG_STATE_HOME and no HOME", args: token, wantCode: 1,
			want: "set HOME, or XDG_STATE_HOME to an absolute path", setup: func(h *harness) {
				delete(h.env, "HOME")
				h.env["XDG_STATE_HOME"] = "state"
				h.t.Chdir(h.t.TempDir())
			}, after: func(t *testing.T, _ *harness, _, _ string) { assertEmptyCwd(t) }},

		{surface: "storage", name: "state directory writable by others", args: token, wantCode: 1,
			want: "it is writable by group or others (mode 0777); fix it with: chmod go-w ", setup: func(h *harness) {
				chmod(h, filepath.Join(h.env["XDG_STATE_HOME"], "sesame"), 0o777)
			}, after: wantPath(filepath.Join("state", "sesame"))},
		{surface: "storage", name: "lock directory writable by group", args: token, wantCode: 1,
			want: "it is writable by group or others (mode 0770); fix it with: chmod go-w ", setup: func(h *harness) {
				chmod(h, filepath.Join(h.env["XDG_STATE_HOME"], "sesame", "locks"), 0o770)
			}, after: wantPath(filepath.Join("state", "sesame", "locks"))},
		{surface: "storage", name: "token directory writable by others", args: token, wantCode: 1,
			want: "it is writable by group or others (mode 0777); fix it with: chmod go-w ", setup: func(h *harness) {
				h.env["SESAME_STORAGE"] = "file"
				dir := filepath.Join(h.env["XDG_STATE_HOME"], "sesame", "tokens")
				os.Mkdir(dir, 0o700)
				chmod(h, dir, 0o777)
			}, after: wantPath(filepath.Join("state", "sesame", "tokens"))},
		{surface: "storage", name: "state directory owned by another user", args: token, wantCode: 1,
			want: "it is owned by uid 4242, not you", setup: func(h *harness) {
				if os.Geteuid() != 0 {
					h.t.Skip("not root, so no chown; internal/fsperm and internal/store test the owner rule with an injected uid")
				}
				if err := os.Chown(filepath.Join(h.env["XDG_STATE_HOME"], "sesame"), 4242, 4242); err != nil {
					h.t.Fatal(err)
				}
			}, after: wantPath(filepath.Join("state", "sesame"))},
		{surface: "storage", name: "lock file is a symbolic link", args: token, wantCode: 1,
			want: "it is a symbolic link", setup: func(h *harness) {
				precious = filepath.Join(h.home, "precious")
				if err := os.WriteFile(precious, []byte("keep me"), 0o600); err != nil {
					h.t.Fatal(err)
				}
				lock := filepath.Join(h.env["XDG_STATE_HOME"], "sesame", "locks", "default.lock")
				os.Remove(lock)
				if err := os.Symlink(precious, lock); err != nil {
					h.t.Fatal(err)
				}
			}, after: func(t *testing.T, h *harness, _, stderr string) {
				wantPath(filepath.Join("locks", "default.lock"))(t, h, "", stderr)
				if b, err := os.ReadFile(precious); err != nil || string(b) != "keep me" {
					t.Errorf("the link's target now holds %q, %v", b, err)
				}
			}},
		{surface: "storage", name: "config file writable by others", args: token, wantCode: 1,
			want: "it is writable by group or others (mode 0666); fix it with: chmod go-w ", setup: func(h *harness) {
				chmod(h, filepath.Join(h.env["XDG_CONFIG_HOME"], "sesame", "config.yaml"), 0o666)
			}, after: wantPath(filepath.Join("sesame", "config.yaml"))},
	}
}

// damageKeychain copies the harness's login into a real store.Keychain
// over go-keyring's in-memory provider, in 256-byte chunks, and cuts the
// last chunk short, as an interrupted copy of a keychain would. It returns
// the chunk names.
func damageKeychain(h *harness) []string {
	h.t.Helper()
	good, err := h.keychain().Get("default")
	if err != nil {
		h.t.Fatal(err)
	}
	if err := store.NewKeychain(store.KeychainOptions{ChunkSize: 256}).Set("default", good); err != nil {
		h.t.Fatal(err)
	}
	head, _ := keyring.Get(store.DefaultService, "default")
	var gen string
	var n int
	if _, err := fmt.Sscanf(head, "sesame-chunked/v1 gen=%s n=%d", &gen, &n); err != nil || n < 2 {
		h.t.Fatalf("head %q: %v", head, err)
	}
	var names []string
	for i := range n {
		names = append(names, "default#"+gen+"."+strconv.Itoa(i))
	}
	last, _ := keyring.Get(store.DefaultService, names[n-1])
	keyring.Set(store.DefaultService, names[n-1], last[:len(last)/2])
	h.storeOverride = func() store.Store { return store.NewKeychain(store.KeychainOptions{}) }
	return names
}

func chmod(h *harness, path string, mode os.FileMode) {
	h.t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		h.t.Fatal(err)
	}
}

// wantPath checks that the message names the full path ending in suffix,
// under the harness's home.
func wantPath(suffix string) func(*testing.T, *harness, string, string) {
	return func(t *testing.T, h *harness, _, stderr string) {
		t.Helper()
		if !strings.Contains(stderr, h.home) || !strings.Contains(stderr, suffix) {
			t.Errorf("message does not name %s under %s:\n%s", suffix, h.home, stderr)
		}
	}
}

func assertEmptyCwd(t *testing.T) {
	t.Helper()
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Errorf("sesame wrote into the working directory: %v", entries)
	}
}

//go:build unix

package fsperm

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestPrivate(t *testing.T) {
	me := os.Getuid()
	tests := []struct {
		name string
		mode os.FileMode
		dir  bool
		link bool
		uid  int // the user sesame runs as
		want string
	}{
		{name: "file 0600", mode: 0o600, uid: me},
		{name: "file 0644", mode: 0o644, uid: me},
		{name: "dir 0700", mode: 0o700, dir: true, uid: me},
		{name: "dir 0755", mode: 0o755, dir: true, uid: me},
		{name: "dir 0770", mode: 0o770, dir: true, uid: me, want: "writable by group or others (mode 0770); fix it with: chmod go-w "},
		{name: "dir 0777", mode: 0o777, dir: true, uid: me, want: "writable by group or others (mode 0777); fix it with: chmod go-w "},
		{name: "file 0602", mode: 0o602, uid: me, want: "(mode 0602)"},
		{name: "owned by another user", mode: 0o700, dir: true, uid: me + 1000, want: "it is owned by uid " + strconv.Itoa(me) + ", not you (uid " + strconv.Itoa(me+1000) + "); remove it or fix its owner"},
		{name: "symbolic link", mode: 0o600, link: true, uid: me, want: "it is a symbolic link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p")
			var err error
			if tt.dir {
				err = os.Mkdir(path, 0o700)
			} else {
				err = os.WriteFile(path, nil, 0o600)
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // beyond the umask
				t.Fatal(err)
			}
			if tt.link {
				link := path + ".link"
				if err := os.Symlink(path, link); err != nil {
					t.Fatal(err)
				}
				path = link
			}
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			err = private(path, fi, tt.uid)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "refusing to use "+path+":")):
				t.Errorf("err = %v, want the path and %q", err, tt.want)
			}
		})
	}
}

// The config file may also belong to root, a file the system manages;
// nobody else.
func TestConfigOwner(t *testing.T) {
	fi, err := os.Stat("/") // owned by root on every unix
	if err != nil {
		t.Fatal(err)
	}
	if err := check("/", fi, 4242, true); err != nil {
		t.Errorf("root-owned config refused: %v", err)
	}
	if err := check("/", fi, 4242, false); err == nil || !strings.Contains(err.Error(), "owned by uid 0, not you (uid 4242)") {
		t.Errorf("root-owned private path: %v", err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(path)
	if os.Getuid() != 0 {
		if err := check(path, fi, 0, true); err == nil {
			t.Error("a config owned by another user was accepted by root")
		}
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(path)
	if err := Config(path, fi); err == nil || !strings.Contains(err.Error(), "chmod go-w "+path) {
		t.Errorf("world-writable config: %v", err)
	}
}

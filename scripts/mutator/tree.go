package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// copyTree copies the working tree at src into dst: what git tracks plus
// the untracked files it does not ignore (new tests not committed yet
// count), as they are on disk now. Without git it copies everything but
// .git, node_modules, bin and dist. Mutations are applied to the copy only.
func copyTree(src, dst string) (int, error) {
	files, err := gitFiles(src)
	if err != nil {
		files, err = walkFiles(src)
		if err != nil {
			return 0, err
		}
	}
	n := 0
	for _, rel := range files {
		from, to := filepath.Join(src, rel), filepath.Join(dst, rel)
		fi, err := os.Lstat(from)
		if err != nil {
			if os.IsNotExist(err) {
				continue // deleted in the working tree, not yet in git
			}
			return n, err
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return n, err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(from)
			if err != nil {
				return n, err
			}
			if err := os.Symlink(target, to); err != nil {
				return n, err
			}
		case fi.Mode().IsRegular():
			if err := copyFile(from, to, fi.Mode().Perm()); err != nil {
				return n, err
			}
		default:
			continue // a submodule or something stranger: not source
		}
		n++
	}
	return n, nil
}

func gitFiles(src string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = src
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var files []string
	seen := map[string]bool{}
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" && !seen[f] {
			seen[f] = true
			files = append(files, filepath.FromSlash(f))
		}
	}
	return files, nil
}

func walkFiles(src string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != src {
			switch d.Name() {
			case ".git", "node_modules", "bin", "dist":
				return filepath.SkipDir
			}
		}
		if !d.IsDir() {
			rel, err := filepath.Rel(src, path)
			if err != nil {
				return err
			}
			files = append(files, rel)
		}
		return nil
	})
	return files, err
}

func copyFile(from, to string, perm fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

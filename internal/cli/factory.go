// Package cli wires sesame's commands with cobra. Each command is an
// options struct filled from flags and a run function that tests call
// directly; everything with side effects comes from the Factory.
package cli

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/sesame-cli/sesame/internal/browser"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/store"
)

// Factory hands out the side effects commands need.
type Factory struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Environ        func() []string // for child processes (sesame exec)
	HTTP           *http.Client
	Browser        browser.Opener
	Now            func() time.Time
	// Keychain opens the OS keychain; tests swap in keyring.MockInit.
	Keychain func() store.Store
	// Headless reports a machine where no browser can open (SSH, containers).
	Headless func() bool

	// Set from the global flags.
	ConfigPath  string
	ProfileFlag string
	Verbose     bool

	wrapStore func(store.Store) store.Store // --verbose logging of the file store
}

// NewFactory returns the production wiring.
func NewFactory(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *Factory {
	return &Factory{
		Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv, Environ: os.Environ,
		// Every provider call is bounded; nothing may hang a script.
		HTTP:     &http.Client{Timeout: 30 * time.Second},
		Browser:  browser.System{Output: stderr, Getenv: getenv},
		Headless: func() bool { return browser.Headless(getenv) },
		Now:      time.Now,
		Keychain: func() store.Store { return store.NewKeychain(store.KeychainOptions{}) },
	}
}

// Config loads the configuration file, printing its warnings.
func (f *Factory) Config() (*config.Config, error) {
	path := f.ConfigPath
	if path == "" {
		path = config.DefaultPath(f.Getenv)
	}
	cfg, err := config.Load(path, f.Getenv)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(f.Stderr, "warning: %s\n", w)
	}
	return cfg, nil
}

// Profile loads the configuration and resolves the selected profile
// (--profile, SESAME_PROFILE, the file's current, "default").
func (f *Factory) Profile() (*config.Config, config.Profile, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, config.Profile{}, err
	}
	p, err := cfg.Profile(cfg.ProfileName(f.ProfileFlag))
	return cfg, p, err
}

// Store opens where p's tokens live. The plaintext file is only used when
// the profile asks for it, and then every use says so.
func (f *Factory) Store(p config.Profile) store.Store {
	if p.Storage == "file" {
		fs := store.NewFile(f.fileDir())
		fmt.Fprintf(f.Stderr, "warning: tokens for profile %q are kept in a plain file (%s), not the OS keychain\n", p.Name, fs.Path(session.Key(p.Name)))
		if f.wrapStore != nil {
			return f.wrapStore(fs)
		}
		return fs
	}
	return f.Keychain()
}

func (f *Factory) fileDir() string { return filepath.Join(f.stateDir(), "tokens") }

// stateDir holds what is neither configuration nor secret: lock files,
// and the token files of the opt-in plaintext store.
func (f *Factory) stateDir() string {
	base := f.Getenv("XDG_STATE_HOME")
	if base == "" {
		base = filepath.Join(f.Getenv("HOME"), ".local", "state")
	}
	return filepath.Join(base, "sesame")
}

// Session returns p's stored login. With a broker, every token request
// goes through it: the broker adds the client secret the CLI never has.
func (f *Factory) Session(p config.Profile) *session.Session {
	return &session.Session{
		Profile: p.Name, Store: f.Store(p), HTTP: f.HTTP, Now: f.Now,
		LockDir: filepath.Join(f.stateDir(), "locks"),
		Issuer:  p.Issuer, ClientID: p.ClientID,
		TokenURL: brokerURL(p.Broker, "/token"), RevocationURL: brokerURL(p.Broker, "/revoke"),
		Warn: func(msg string) { fmt.Fprintf(f.Stderr, "warning: %s\n", msg) },
	}
}

// brokerURL is path on the broker, or "" without one.
func brokerURL(broker, path string) string {
	if broker == "" {
		return ""
	}
	return strings.TrimSuffix(broker, "/") + path
}

// Color reports whether output may be coloured: a terminal, and NO_COLOR
// (https://no-color.org) unset.
func (f *Factory) Color() bool { return f.StdoutIsTTY() && f.Getenv("NO_COLOR") == "" }

// StdoutIsTTY reports whether stdout is a terminal: formats and colour
// depend on it, and nothing else decides it.
func (f *Factory) StdoutIsTTY() bool { return f.isTTY(f.Stdout) }

// StderrIsTTY reports whether messages go to a person: progress lines and
// prompts depend on it.
func (f *Factory) StderrIsTTY() bool { return f.isTTY(f.Stderr) }

func (f *Factory) isTTY(w io.Writer) bool {
	file, ok := w.(*os.File)
	return ok && term.IsTerminal(int(file.Fd())) && f.Getenv("TERM") != "dumb"
}

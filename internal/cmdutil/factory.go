// Package cmdutil holds what every command shares: the Factory that hands
// out side effects (streams, configuration, the keychain, HTTP, the
// browser, the clock), the errors that carry exit codes, and completion
// helpers. Commands live in packages of their own (internal/cli,
// internal/tokencmd), so that a command's package graph holds only what
// it uses: `sesame token` links no login flow.
package cmdutil

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sesame-cli/sesame/internal/browser"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/store"
	"github.com/sesame-cli/sesame/internal/term"
)

// Factory hands out the side effects commands need.
type Factory struct {
	Stdin io.Reader
	// Stdout carries the data a command was asked for, exactly; human
	// output goes through HumanOut. Stderr carries messages for people, and
	// every byte written to it passes term's sanitiser, so that no text
	// from a provider can drive the terminal.
	Stdout, Stderr io.Writer
	// rawStderr is the process's own stderr: for the TTY check, and for
	// children that need the terminal itself (sesame exec).
	rawStderr io.Writer
	Getenv    func(string) string
	Environ   func() []string // for child processes (sesame exec)
	HTTP      *http.Client
	Browser   browser.Opener
	Now       func() time.Time
	// Keychain opens the OS keychain; tests swap in keyring.MockInit.
	Keychain func() store.Store
	// Headless reports a machine where no browser can open (SSH, containers).
	Headless func() bool
	// Prompter asks the person at the terminal; where there is none, every
	// question gets its default (sesame never prompts a script).
	Prompter Prompter

	// Set from the global flags.
	ConfigPath  string
	ProfileFlag string
	Verbose     bool

	WrapStore func(store.Store) store.Store // --verbose logging of the file store
}

// NewFactory returns the production wiring.
func NewFactory(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *Factory {
	safe := term.NewWriter(stderr)
	f := &Factory{
		Stdin: stdin, Stdout: stdout, Stderr: safe, rawStderr: stderr, Getenv: getenv, Environ: os.Environ,
		// Every provider call is bounded; nothing may hang a script.
		HTTP:     &http.Client{Timeout: 30 * time.Second},
		Browser:  browser.System{Output: safe, Getenv: getenv},
		Headless: func() bool { return browser.Headless(getenv) },
		Now:      time.Now,
		Keychain: func() store.Store { return store.NewKeychain(store.KeychainOptions{}) },
	}
	f.Prompter = term.Defaults{}
	if term.IsTerminal(stdin, getenv) && f.StderrIsTTY() {
		f.Prompter = term.NewPrompter(stdin, safe)
	}
	return f
}

// Prompter asks a question and returns the answer, or def for an empty
// one; an interrupt returns the context's error.
type Prompter interface {
	Prompt(ctx context.Context, question, def string) (string, error)
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
		dir, err := store.DefaultFileDir(f.Getenv)
		if err != nil {
			return unusableStore{err}
		}
		fs := store.NewFile(dir)
		fmt.Fprintf(f.Stderr, "warning: tokens for profile %q are kept in a plain file (%s), not the OS keychain\n", p.Name, fs.Path(session.Key(p.Name)))
		if f.WrapStore != nil {
			return f.WrapStore(fs)
		}
		return fs
	}
	return f.Keychain()
}

// unusableStore stands in for the file store when there is no directory
// to keep it in (no home): every use says why.
type unusableStore struct{ err error }

func (s unusableStore) Get(string) ([]byte, error) { return nil, s.err }
func (s unusableStore) Set(string, []byte) error   { return s.err }
func (s unusableStore) Delete(string) error        { return s.err }
func (s unusableStore) Backend() string            { return "file" }

// Session returns p's stored login. With a broker, every token request
// goes through it: the broker adds the client secret the CLI never has.
// Lock files go under the same state directory as the token files
// (store.StateDir), keychain or not.
func (f *Factory) Session(p config.Profile) *session.Session {
	lockDir, err := store.StateDir(f.Getenv)
	if err == nil {
		lockDir = filepath.Join(lockDir, "locks")
	}
	return &session.Session{
		Profile: p.Name, Store: f.Store(p), HTTP: f.HTTP, Now: f.Now,
		LockDir: lockDir, LockDirErr: err,
		Issuer: p.Issuer, ClientID: p.ClientID,
		TokenURL: session.BrokerURL(p.Broker, "/token"), RevocationURL: session.BrokerURL(p.Broker, "/revoke"),
		IntrospectionURL: session.BrokerURL(p.Broker, "/introspect"), Overrides: session.ProfileEndpoints(p),
		Warn: func(msg string) { fmt.Fprintf(f.Stderr, "warning: %s\n", msg) },
	}
}

// Color reports whether stdout may be coloured (term.Color).
func (f *Factory) Color() bool { return term.Color(f.Stdout, f.Getenv) }

// StdoutIsTTY reports whether stdout is a terminal: formats depend on it.
func (f *Factory) StdoutIsTTY() bool { return term.IsTerminal(f.Stdout, f.Getenv) }

// StderrIsTTY reports whether messages go to a person: progress lines and
// prompts depend on it.
func (f *Factory) StderrIsTTY() bool { return term.IsTerminal(f.RawStderr(), f.Getenv) }

// RawStderr is the process's stderr itself, unsanitised: only for handing
// to a child process, which must keep its terminal.
func (f *Factory) RawStderr() io.Writer {
	if f.rawStderr == nil {
		return f.Stderr
	}
	return f.rawStderr
}

// HumanOut is stdout for output meant for people (tables, checklists):
// it passes term's sanitiser, like stderr. Data asked for (tokens, JSON)
// goes to Stdout unchanged.
func (f *Factory) HumanOut() io.Writer { return term.NewWriter(f.Stdout) }

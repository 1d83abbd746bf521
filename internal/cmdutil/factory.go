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

// Config loads the configuration file, printing its warnings. A file
// named by --config or $SESAME_CONFIG must exist: a typo there would
// otherwise run with no profiles at all. Commands that create the file
// (init, login) use ConfigOrNew.
func (f *Factory) Config() (*config.Config, error) {
	cfg, err := f.ConfigOrNew()
	if err != nil {
		return nil, err
	}
	if from := f.ConfigOrigin(); !cfg.Exists && from.Kind != config.OriginDefault {
		return nil, &CodeError{Code: ExitUsage, Err: &MissingConfigError{Path: cfg.Path, From: from.Name}}
	}
	return cfg, nil
}

// ConfigOrNew is Config for the commands that may create the file.
func (f *Factory) ConfigOrNew() (*config.Config, error) {
	cfg, err := config.Load(f.configPath(), f.Getenv)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(f.Stderr, "warning: %s\n", w)
	}
	return cfg, nil
}

// configPath is the file the flags and environment name (config.DefaultPath).
func (f *Factory) configPath() string {
	if f.ConfigPath != "" {
		return f.ConfigPath
	}
	return config.DefaultPath(f.Getenv)
}

// ConfigOrigin says what chose the config file: --config,
// $SESAME_CONFIG, or neither (the default path).
func (f *Factory) ConfigOrigin() config.Origin {
	switch {
	case f.ConfigPath != "":
		return config.Origin{Kind: config.OriginFlag, Name: "--config"}
	case f.Getenv("SESAME_CONFIG") != "":
		return config.Origin{Kind: config.OriginEnv, Name: "SESAME_CONFIG"}
	}
	return config.Origin{Kind: config.OriginDefault}
}

// MissingConfigError is a config file named by --config or
// $SESAME_CONFIG that does not exist.
type MissingConfigError struct{ Path, From string }

func (e *MissingConfigError) Error() string {
	return fmt.Sprintf("the config file %s (%s) does not exist", e.Path, e.From)
}

// Hint says how to create it.
func (e *MissingConfigError) Hint() string {
	return "Check the path, or create the file with `sesame init ISSUER` or `sesame login`, which take the same --config."
}

// Profile loads the configuration and resolves the selected profile
// (--profile, SESAME_PROFILE, the file's current, "default"). A profile
// the file does not have is a usage error (exit 2) that lists those it
// has; "default" alone may be missing, for runs from SESAME_* variables
// and flags without a file.
func (f *Factory) Profile() (*config.Config, config.Profile, error) {
	return f.profile(false)
}

// ProfileOrNew is Profile for the commands that create profiles (login):
// neither the file nor the profile need exist yet.
func (f *Factory) ProfileOrNew() (*config.Config, config.Profile, error) {
	return f.profile(true)
}

func (f *Factory) profile(create bool) (*config.Config, config.Profile, error) {
	load := f.Config
	if create {
		load = f.ConfigOrNew
	}
	cfg, err := load()
	if err != nil {
		return nil, config.Profile{}, err
	}
	sel, err := f.Select(cfg, create)
	if err != nil {
		return nil, config.Profile{}, err
	}
	p, err := cfg.Profile(sel.Name)
	return cfg, p, err
}

// Select resolves the profile a command uses (config.Config.Select) and,
// unless create is set, checks that the file has it (config.Config.Check):
// an unknown one is a usage error (exit 2).
func (f *Factory) Select(cfg *config.Config, create bool) (config.Selection, error) {
	sel := cfg.Select(f.ProfileFlag)
	if !create {
		if err := cfg.Check(sel); err != nil {
			return sel, &CodeError{Code: ExitUsage, Err: err}
		}
	}
	return sel, nil
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
		fmt.Fprintf(f.Stderr, "warning: tokens for profile %q are kept in a plain file (%s), not the OS keychain\n", p.Name, fs.Path(session.KeyFor(f.storeNamespace(), p.Name)))
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
	lockDir, err := store.DefaultLockDir(f.Getenv)
	// In session mode (a broker and one of its providers) the broker's
	// session endpoints serve the login; SESAME_BROKER picks the replica.
	prefix := ""
	if p.Provider != "" {
		prefix = "/session"
	}
	s := &session.Session{
		Profile: p.Name, Store: f.Store(p), HTTP: f.HTTP, Now: f.Now,
		LockDir: lockDir, LockDirErr: err, Namespace: f.storeNamespace(),
		Issuer: p.Issuer, ClientID: p.ClientID,
		TokenURL: session.BrokerURL(p.Broker, prefix+"/token"), RevocationURL: session.BrokerURL(p.Broker, prefix+"/revoke"),
		IntrospectionURL: session.BrokerURL(p.Broker, prefix+"/introspect"), Overrides: session.ProfileEndpoints(p),
		Warn: func(msg string) { fmt.Fprintf(f.Stderr, "warning: %s\n", msg) },
	}
	return s
}

// storeNamespace sets apart the store keys of this config file's profiles
// from those of another file (session.Namespace): "" for the standard
// file, config.StandardPath.
func (f *Factory) storeNamespace() string {
	abs := func(p string) string {
		if p == "" {
			return ""
		}
		a, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		return a
	}
	return session.Namespace(abs(f.configPath()), abs(config.StandardPath(f.Getenv)))
}

// Color reports whether stdout may be coloured (term.Color).
func (f *Factory) Color() bool { return term.Color(f.Stdout, f.Getenv) }

// StdoutIsTTY reports whether stdout is a terminal: formats depend on it.
func (f *Factory) StdoutIsTTY() bool { return term.IsTerminal(f.Stdout, f.Getenv) }

// StderrIsTTY reports whether messages go to a person: progress lines and
// prompts depend on it.
func (f *Factory) StderrIsTTY() bool { return term.IsTerminal(f.RawStderr(), f.Getenv) }

// RawStderr is the process's stderr itself, unsanitised: only for handing
// to a child process, which must keep its terminal, and for the one line
// login's waiting screen rewrites in place (a carriage return, which the
// sanitiser escapes; only sesame's own text goes there).
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

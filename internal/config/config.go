// Package config reads and edits sesame's profiles file and layers SESAME_*
// environment variables over it.
//
// The file is YAML, read with go.yaml.in/yaml/v3 rather than viper: viper
// folds every key to lower case and splits keys on dots, which would rename
// profiles such as "Work" or "acme.prod" and change the case of extra
// authorization parameters that identity providers compare exactly. Edits
// splice text into the file (see edit.go) so that comments, blank lines and
// every untouched profile stay exactly as the user wrote them.
package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/sesame-cli/sesame/internal/fsperm"
)

// Storage values for Profile.Storage.
const (
	// StorageKeychain keeps tokens in the OS keychain; it is the default.
	StorageKeychain = "keychain"
	// StorageFile keeps tokens in a plaintext file; users must opt in.
	StorageFile = "file"
)

// DefaultProfile is the profile used when nothing else names one.
const DefaultProfile = "default"

// Profile is one identity provider configuration. Name comes from the key
// the profile sits under. The struct tags are the only list of profile
// settings; everything that goes through all of them reads the tags (see
// keys.go):
//   - yaml is the key users write in the file; the SESAME_* variable that
//     overrides it is named after it (applyEnv), and `sesame profile show`
//     lists the keys in this order (Settings);
//   - kind:"url" marks an endpoint URL and kind:"issuer" the issuer, which
//     Validate checks against the one URL policy (httpx.CheckEndpoint).
type Profile struct {
	Name string `yaml:"-"`

	Issuer    string            `yaml:"issuer" kind:"issuer"`
	ClientID  string            `yaml:"client_id"`
	Scopes    []string          `yaml:"scopes"`
	Resources []string          `yaml:"resources"`
	Params    map[string]string `yaml:"params"`
	Storage   string            `yaml:"storage"` // "" means StorageKeychain
	Port      int               `yaml:"port"`    // loopback redirect port, 0 = any free port
	Broker    string            `yaml:"broker" kind:"url"`
	// Provider, with a broker in session mode, names the upstream the
	// broker signs in with; the broker then issues its own session tokens.
	Provider string `yaml:"provider"`
	// NoPreflight skips the check of the authorization request with the
	// provider before the browser opens (login --no-preflight).
	NoPreflight bool `yaml:"no_preflight"`
	// DPoP binds the tokens to a key that never leaves the keychain (RFC
	// 9449): login --dpop.
	DPoP bool `yaml:"dpop"`
	// APIURL is where `sesame api` resolves a relative path.
	APIURL string `yaml:"api_url" kind:"url"`

	// Endpoints for plain OAuth 2.0 providers without OIDC discovery; when
	// set they take precedence over what discovery reports.
	AuthURL          string `yaml:"auth_url" kind:"url"`
	TokenURL         string `yaml:"token_url" kind:"url"`
	UserinfoURL      string `yaml:"userinfo_url" kind:"url"`
	RevocationURL    string `yaml:"revocation_url" kind:"url"`
	IntrospectionURL string `yaml:"introspection_url" kind:"url"`
	EndSessionURL    string `yaml:"end_session_url" kind:"url"`
	JWKSURL          string `yaml:"jwks_url" kind:"url"`
	DeviceURL        string `yaml:"device_url" kind:"url"`
}

// Config is the loaded file plus the environment it is read against.
type Config struct {
	// Path is the file that was read (or would have been, had it existed);
	// pass it to SaveProfile and friends. Empty when no path could be
	// worked out from the environment.
	Path string
	// Current is the file's "current" key: the profile used when none is chosen.
	Current string
	// Warnings name keys the file has but sesame does not know, with file
	// and line, so the CLI can point out typos on stderr.
	Warnings []string
	// Exists reports whether the file was there: a missing one is an empty
	// configuration.
	Exists bool

	profiles map[string]Profile
	// data is the file as read, for Origins.
	data   []byte
	getenv func(string) string
}

// fileDoc is the shape of the whole file.
type fileDoc struct {
	Current  string             `yaml:"current"`
	Profiles map[string]Profile `yaml:"profiles"`
}

// DefaultPath is where the file lives when --config is not given:
// $SESAME_CONFIG, else $XDG_CONFIG_HOME/sesame/config.yaml, else
// ~/.config/sesame/config.yaml. It returns "" when no home is known.
func DefaultPath(getenv func(string) string) string {
	if getenv == nil {
		return ""
	}
	if p := getenv("SESAME_CONFIG"); p != "" {
		return p
	}
	return StandardPath(getenv)
}

// StandardPath is $XDG_CONFIG_HOME/sesame/config.yaml, else
// ~/.config/sesame/config.yaml: DefaultPath without $SESAME_CONFIG. It is
// the file that tokens stored before sesame kept config files apart are
// taken to belong to (see session.KeyFor). It returns "" when no home is
// known.
func StandardPath(getenv func(string) string) string {
	if getenv == nil {
		return ""
	}
	// The XDG base directory spec says relative values must be ignored.
	dir := getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(dir) {
		home := getenv("HOME")
		if home == "" {
			home = getenv("USERPROFILE")
		}
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "sesame", "config.yaml")
}

// Load reads the file at path, or at DefaultPath when path is "". A missing
// file is an empty configuration, not an error: sesame works from flags and
// environment alone. getenv is consulted for every SESAME_* lookup; nil
// means an empty environment.
func Load(path string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if path == "" {
		path = DefaultPath(getenv)
	}
	c := &Config{Path: path, getenv: getenv}
	if path == "" {
		return c, nil
	}
	data, err := readTrusted(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	f, warnings, err := decodeFile(data, path)
	if err != nil {
		return nil, err
	}
	c.Current, c.profiles, c.Warnings, c.Exists, c.data = f.Current, f.Profiles, warnings, true, data
	return c, nil
}

// readTrusted reads the config file after checking who can write it
// (fsperm.Config). The file says which servers receive the user's
// authorization codes and refresh tokens (issuer, broker, endpoints), so
// whoever can write it can send them to a server of their own. A file
// others can write is refused, as ssh refuses such a ~/.ssh/config: a
// warning would come too late (the next login or refresh has already sent
// the tokens) and goes unseen in scripts. The check is made on the open
// file, so it is the file that was checked that is read.
func readTrusted(path string) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if err := fsperm.Config(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(file)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return data, nil
}

// decodeFile parses the file contents; path only labels messages.
func decodeFile(data []byte, path string) (fileDoc, []string, error) {
	var f fileDoc
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return f, nil, syntaxError(data, path, err)
	}
	if doc.Kind == 0 { // empty or comments only
		return f, nil, nil
	}
	if err := doc.Decode(&f); err != nil {
		return f, nil, typeError(&doc, data, path, err)
	}
	return f, unknownKeys(&doc, path), nil
}

// ProfileName picks the profile to use: the --profile flag (explicit), then
// $SESAME_PROFILE, then the file's "current" key, then "default".
func (c *Config) ProfileName(explicit string) string {
	if explicit != "" {
		return explicit
	}
	if name := c.env("SESAME_PROFILE"); name != "" {
		return name
	}
	if c.Current != "" {
		return c.Current
	}
	return DefaultProfile
}

// Profile returns the named profile with SESAME_* overrides applied (see
// applyEnv). A name the file does not have yields a Profile with only Name
// and the environment set: whether that is enough is the caller's call.
// The result is not validated, since flags may still be layered on; call
// Validate once they are.
func (c *Config) Profile(name string) (Profile, error) {
	p := c.profiles[name]
	p.Name = name
	// Callers layer flags onto the result; keep them from writing into c.
	p.Scopes = slices.Clone(p.Scopes)
	p.Resources = slices.Clone(p.Resources)
	p.Params = maps.Clone(p.Params)
	if err := applyEnv(&p, c.env); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// ProfileNames lists the profiles in the file, sorted.
func (c *Config) ProfileNames() []string {
	return slices.Sorted(maps.Keys(c.profiles))
}

func (c *Config) env(key string) string {
	if c.getenv == nil {
		return ""
	}
	return c.getenv(key)
}

package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/sesame-cli/sesame/internal/store"
)

// LoginRequiredError means only `sesame login` can help: nothing is
// stored, or the provider no longer honours what is.
type LoginRequiredError struct {
	Profile string
	Reason  string
	// Unreadable marks a stored entry that cannot be read at all. The
	// message then names both ways out, since the user may just want it gone.
	Unreadable bool
}

func (e *LoginRequiredError) Error() string {
	if e.Unreadable {
		return fmt.Sprintf("%s; `%s` replaces them and `%s` removes them", e.Reason, LoginCommand(e.Profile), logoutCommand(e.Profile))
	}
	return fmt.Sprintf("%s; run `%s`", e.Reason, LoginCommand(e.Profile))
}

// LoginCommand is the command that logs in to profile.
func LoginCommand(profile string) string {
	if profile == "" || profile == "default" {
		return "sesame login"
	}
	return "sesame login --profile " + profile
}

func logoutCommand(profile string) string {
	if profile == "" || profile == "default" {
		return "sesame logout --no-revoke"
	}
	return "sesame logout --profile " + profile + " --no-revoke"
}

// Session is one profile's stored login.
type Session struct {
	Profile string
	Store   store.Store
	HTTP    *http.Client
	Now     func() time.Time
	// LockDir holds the per-profile lock files; LockTimeout bounds the
	// wait for another process (DefaultLockTimeout when zero).
	LockDir     string
	LockTimeout time.Duration
	// LockDirErr, when LockDir is empty, says why (no home directory);
	// commands that need the lock report it.
	LockDirErr error
	// TokenURL and RevocationURL, when set, replace the stored endpoints
	// (a broker that adds client authentication).
	TokenURL, RevocationURL string
	// IntrospectionURL, when set, is the broker's introspection endpoint.
	IntrospectionURL string
	// Overrides are the endpoints the profile names itself, for commands
	// that reach the provider without a stored login (introspecting a
	// token given on the command line).
	Overrides Endpoints
	// Issuer and ClientID, when set, are what the profile says now; tokens
	// from another provider or client are not handed out for it.
	Issuer, ClientID string
	// Warn is told about problems that do not stop the command.
	Warn func(string)
	// ExactMinTTL makes minTTL exact. By default it is capped at half the
	// lifetime the provider gives its tokens: with 60-second tokens and the
	// 60-second default, every use would refresh, and processes that start
	// just after another's refresh would refresh yet again.
	ExactMinTTL bool
}

// due reports whether a token that expires at exp, obtained at obtained,
// must be renewed to stay valid for minTTL.
func (s *Session) due(exp, obtained time.Time, minTTL time.Duration) bool {
	if !s.ExactMinTTL && !obtained.IsZero() && exp.After(obtained) {
		minTTL = min(minTTL, exp.Sub(obtained)/2)
	}
	return expiresWithin(exp, s.now(), minTTL)
}

func (s *Session) warn(msg string) {
	if s.Warn != nil {
		s.Warn(msg)
	}
}

// Key is the store key of a profile's token set.
func Key(profile string) string { return profile }

func (s *Session) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Load reads the stored tokens. An entry that cannot be read (a damaged
// keychain entry, JSON that does not decode, a format from a newer sesame)
// is a LoginRequiredError like a missing one, so that login can replace it
// and logout remove it instead of both stopping at it.
func (s *Session) Load() (*Tokens, error) {
	b, err := s.Store.Get(Key(s.Profile))
	var ce *store.CorruptError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, &LoginRequiredError{Profile: s.Profile, Reason: fmt.Sprintf("not logged in (profile %q)", s.Profile)}
	case errors.As(err, &ce):
		return nil, &LoginRequiredError{Profile: s.Profile, Unreadable: true, Reason: fmt.Sprintf("the stored tokens for profile %q are damaged (%s)", s.Profile, ce.Reason)}
	case err != nil:
		return nil, fmt.Errorf("read stored tokens: %w", err)
	}
	t, err := decode(b)
	if err != nil {
		return nil, &LoginRequiredError{Profile: s.Profile, Unreadable: true, Reason: fmt.Sprintf("the stored tokens for profile %q cannot be used (%v)", s.Profile, err)}
	}
	if s.Issuer != "" && t.Endpoints.Issuer != s.Issuer || s.ClientID != "" && t.ClientID != s.ClientID {
		return nil, &LoginRequiredError{Profile: s.Profile, Reason: fmt.Sprintf("profile %q now names another issuer or client than the stored login (%s, %s)", s.Profile, t.Endpoints.Issuer, t.ClientID)}
	}
	return t, nil
}

// save stores t whole, replacing what was there. Callers hold the lock.
func (s *Session) save(t *Tokens) error {
	t.Version, t.UpdatedAt = formatVersion, s.now().UTC()
	b, err := encode(t)
	if err != nil {
		return fmt.Errorf("encode tokens: %w", err)
	}
	if err := s.Store.Set(Key(s.Profile), b); err != nil {
		return fmt.Errorf("store tokens: %w", err)
	}
	return nil
}

// SaveLogin stores the tokens of a new login. Resource and organization
// tokens of the previous login belong to its grant and are dropped.
func (s *Session) SaveLogin(ctx context.Context, t *Tokens) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	var old []string
	if prev, err := s.Load(); err == nil {
		old = prev.Derived
	}
	t.Derived = nil
	if err := s.save(t); err != nil {
		return err
	}
	s.deleteAll(old)
	return nil
}

// Remove deletes the login and every token derived from it.
func (s *Session) Remove(ctx context.Context) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return s.remove()
}

func (s *Session) remove() error {
	if t, err := s.Load(); err == nil {
		s.deleteAll(t.Derived)
	}
	if err := s.Store.Delete(Key(s.Profile)); err != nil {
		return fmt.Errorf("remove stored tokens: %w", err)
	}
	return nil
}

// deleteAll removes derived entries; a leftover one is harmless (nothing
// points to it any more), so failures are not fatal.
func (s *Session) deleteAll(keys []string) {
	for _, k := range slices.Compact(slices.Sorted(slices.Values(keys))) {
		_ = s.Store.Delete(k)
	}
}

// LoadDerived reads the cached token for target, if any.
func (s *Session) LoadDerived(target Target) (*Derived, error) {
	return s.loadDerived(target.key(s.Profile))
}

func (s *Session) loadDerived(key string) (*Derived, error) {
	b, err := s.Store.Get(key)
	if err != nil {
		return nil, err
	}
	return decodeDerived(b)
}

// DerivedTokens lists the resource and organization tokens cached for t.
func (s *Session) DerivedTokens(t *Tokens) []*Derived {
	var out []*Derived
	for _, k := range t.Derived {
		if d, err := s.loadDerived(k); err == nil {
			out = append(out, d)
		}
	}
	return out
}

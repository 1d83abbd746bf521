package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/sesame-cli/sesame/internal/httpx"
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
	// Ended, when set, is the stored record of a grant the provider ended.
	Ended *Ended
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
	// Namespace tells apart profiles of the same name in different config
	// files (see Namespace and KeyFor); "" is the standard file's.
	Namespace string
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
	b, err := s.Store.Get(s.key())
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
	if e := t.Ended; e != nil {
		return nil, &LoginRequiredError{Profile: s.Profile, Ended: e, Reason: fmt.Sprintf("the login of profile %q has ended: the provider refused its refresh token at %s (%s)", s.Profile, e.At.UTC().Format(time.RFC3339), e.Reason)}
	}
	if err := s.applyOverrides(t); err != nil {
		return nil, err
	}
	return t, nil
}

// applyOverrides puts the endpoints the profile names now (its file,
// SESAME_*_URL variables, flags) in place of those stored with the login,
// so that a setting made after the login applies to it. The issuer is not
// among them: a profile that names another one has no usable login (Load).
// Each passes the one URL policy, as at login; every call checks it again.
func (s *Session) applyOverrides(t *Tokens) error {
	ep, changed := t.Endpoints, false
	for _, f := range []struct {
		key string
		dst *string
		v   string
	}{
		{"auth_url", &ep.Auth, s.Overrides.Auth}, {"token_url", &ep.Token, s.Overrides.Token},
		{"userinfo_url", &ep.Userinfo, s.Overrides.Userinfo}, {"jwks_url", &ep.JWKS, s.Overrides.JWKS},
		{"revocation_url", &ep.Revocation, s.Overrides.Revocation}, {"introspection_url", &ep.Introspection, s.Overrides.Introspection},
		{"end_session_url", &ep.EndSession, s.Overrides.EndSession}, {"device_url", &ep.Device, s.Overrides.Device},
	} {
		if f.v == "" || f.v == *f.dst {
			continue
		}
		if err := httpx.CheckEndpoint(f.v); err != nil {
			return fmt.Errorf("the profile's %s: %w", f.key, err)
		}
		*f.dst, changed = f.v, true
	}
	if changed {
		stored := t.Endpoints
		t.stored, t.Endpoints = &stored, ep
	}
	return nil
}

// save stores t whole, replacing what was there. Callers hold the lock.
func (s *Session) save(t *Tokens) error {
	t.Version, t.UpdatedAt = formatVersion, s.now().UTC()
	out := *t
	if t.stored != nil {
		out.Endpoints = *t.stored // the profile's settings are not stored
	}
	b, err := encode(&out)
	if err != nil {
		return fmt.Errorf("encode tokens: %w", err)
	}
	if err := s.Store.Set(s.key(), b); err != nil {
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
	old := s.storedDerived()
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
	s.deleteAll(s.storedDerived())
	if err := s.Store.Delete(s.key()); err != nil {
		return fmt.Errorf("remove stored tokens: %w", err)
	}
	return nil
}

// storedDerived lists the derived entries of whatever login is stored,
// even one of another client or issuer that Load refuses: a new login or a
// logout must delete them too.
func (s *Session) storedDerived() []string {
	b, err := s.Store.Get(s.key())
	if err != nil {
		return nil
	}
	t, err := decode(b)
	if err != nil {
		return nil
	}
	return t.Derived
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
	return s.loadDerived(target.key(s.key()))
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

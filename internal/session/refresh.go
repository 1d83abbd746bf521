package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/term"
)

// OrganizationsScope must be granted before Logto issues organization tokens.
const OrganizationsScope = "urn:logto:scope:organizations"

// OrganizationAudience is the aud of the token Logto issues for
// organization id: what an organization token is checked against.
func OrganizationAudience(id string) string { return "urn:logto:organization:" + id }

// Fresh returns tokens whose access token is valid for at least minTTL,
// refreshing them first when needed (or always, with force). A valid
// token costs one store read and no lock.
func (s *Session) Fresh(ctx context.Context, minTTL time.Duration, force bool) (*Tokens, error) {
	return s.fresh(ctx, minTTL, force, func(t *Tokens) time.Time { return t.Expiry })
}

// FreshID is Fresh for the ID token, for callers that present it (the
// Kubernetes OIDC authenticator). It refreshes when the ID token is due and
// never returns one that has expired, or one without the record of a
// verification (an entry written by an older sesame): a relying party
// would refuse the first, and the second was never checked here. Both need
// a new login.
func (s *Session) FreshID(ctx context.Context, minTTL time.Duration) (*Tokens, error) {
	t, err := s.fresh(ctx, minTTL, false, func(t *Tokens) time.Time {
		if t.Identity == nil {
			return time.Time{}
		}
		return t.Identity.Expiry
	})
	if err != nil {
		return nil, err
	}
	switch {
	case t.IDToken == "":
		return nil, fmt.Errorf("profile %q has no ID token (was the openid scope requested?)", s.Profile)
	case t.Identity == nil || t.Identity.Expiry.IsZero():
		return nil, &LoginRequiredError{Profile: s.Profile, Reason: "the stored ID token carries no record of its verification"}
	case !s.now().Before(t.Identity.Expiry):
		return nil, &LoginRequiredError{Profile: s.Profile, Reason: "the ID token has expired and the provider issued no new one on refresh"}
	}
	return t, nil
}

func (s *Session) fresh(ctx context.Context, minTTL time.Duration, force bool, expiry func(*Tokens) time.Time) (*Tokens, error) {
	seen, err := s.Load()
	if err != nil {
		return nil, err
	}
	if !force && !s.due(expiry(seen), seen.ObtainedAt, minTTL) {
		return seen, nil
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Another process may have refreshed while this one waited.
	t, err := s.Load()
	if err != nil {
		return nil, err
	}
	// A token refreshed meanwhile is used even if it is inside minTTL (the
	// provider's lifetime may be shorter): refreshing again would only
	// multiply grants.
	if !force && (!s.due(expiry(t), t.ObtainedAt, minTTL) ||
		t.RefreshToken != seen.RefreshToken && !expiresWithin(expiry(t), s.now(), 0)) {
		return t, nil
	}
	got, err := s.refresh(ctx, t, Target{})
	if err != nil {
		return nil, err
	}
	next := *t
	next.AccessToken, next.TokenType, next.Expiry = got.AccessToken, got.TokenType, got.Expiry
	next.ObtainedAt = s.now().UTC()
	if got.Scope != "" {
		next.Scope = got.Scope
	}
	if err := s.commit(ctx, &next, got); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err // interrupted during the refresh, whose result is stored
	}
	return &next, nil
}

// FreshFor returns an access token for a resource or organization,
// reusing the cached one until it expires within minTTL. Getting a new one
// rotates the login's refresh token like any refresh.
func (s *Session) FreshFor(ctx context.Context, target Target, minTTL time.Duration, force bool) (*Derived, error) {
	// A cached token counts only when the current login lists it: an entry
	// left by another login (another client or issuer, whose entries a new
	// login could not read to delete) is never handed out.
	cached := func(t *Tokens) *Derived {
		if force || !slices.Contains(t.Derived, target.key(s.key())) {
			return nil
		}
		if d, err := s.LoadDerived(target); err == nil && !s.due(d.Expiry, d.UpdatedAt, minTTL) {
			return d
		}
		return nil
	}
	t, err := s.Load() // the login is gone: so is the cache
	if err != nil {
		return nil, err
	}
	if d := cached(t); d != nil {
		return d, nil
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if t, err = s.Load(); err != nil {
		return nil, err
	}
	if d := cached(t); d != nil {
		return d, nil
	}
	if target.Org != "" && !slices.Contains(strings.Fields(t.Scope), OrganizationsScope) {
		return nil, &LoginRequiredError{Profile: s.Profile, Reason: fmt.Sprintf("organization tokens need the %s scope, which this login did not get; log in again with it added to --scope", OrganizationsScope)}
	}
	got, err := s.refresh(ctx, t, target)
	if err != nil {
		return nil, err
	}
	key := target.key(s.key())
	next := *t
	if !slices.Contains(next.Derived, key) {
		next.Derived = append(slices.Clone(next.Derived), key)
	}
	// The rotated refresh token is the precious part: store it first. If
	// the derived entry then fails to save, the next call fetches it again.
	if err := s.commit(ctx, &next, got); err != nil {
		return nil, err
	}
	d := &Derived{Version: formatVersion, Resource: target.Resource, Org: target.Org,
		AccessToken: got.AccessToken, TokenType: got.TokenType, Expiry: got.Expiry, Scope: got.Scope, UpdatedAt: s.now().UTC()}
	b, err := encode(d)
	if err == nil {
		err = s.Store.Set(key, b)
	}
	if err != nil {
		return nil, fmt.Errorf("store the token for %s: %w", target, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err // interrupted during the refresh, whose result is stored
	}
	return d, nil
}

// refresh runs one refresh_token grant. On any error the stored tokens
// stay as they were, except when the provider ended the grant (end). An
// interrupt (ctx cancelled) lets a request already sent finish within
// interruptGrace, so that a rotated refresh token is not lost; the caller
// stores it and then reports the interrupt.
func (s *Session) refresh(ctx context.Context, t *Tokens, target Target) (*grant.Tokens, error) {
	if t.RefreshToken == "" {
		return nil, &LoginRequiredError{Profile: s.Profile, Reason: "the access token has expired and there is no refresh token (did the login ask for offline_access?)"}
	}
	tokenURL := t.Endpoints.Token
	if s.TokenURL != "" {
		tokenURL = s.TokenURL
	}
	key, err := t.Key()
	if err != nil {
		return nil, &LoginRequiredError{Profile: s.Profile, Reason: err.Error()}
	}
	// A bound refresh token is refreshed with a proof of the same key
	// (RFC 9449 §5), also through a broker: the proof names the provider.
	c := grant.Client{ClientID: t.ClientID, TokenURL: tokenURL, HTTP: s.HTTP, Now: s.now,
		DPoP: key, DPoPURL: t.Endpoints.Token}
	if t.Provider != "" {
		c.Server = "sesame-broker" // session mode: the broker's own answers
	}
	rctx, stop := withGrace(ctx)
	defer stop()
	got, err := c.Refresh(rctx, t.RefreshToken, target.params())
	if grant.IsInvalidGrant(err) && target.IsBase() {
		s.end(t, err)
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("refresh the tokens: %w", ctx.Err())
	case err != nil:
		return nil, s.explain(err, target)
	}
	return got, nil
}

// interruptGrace is how long a refresh request already sent may still
// finish after an interrupt. Its answer carries the rotated refresh token,
// the only valid one once the provider has rotated it: storing it keeps
// the login alive, where dropping it would have the next refresh look
// like reuse, which ends the grant.
const interruptGrace = 2 * time.Second

// withGrace returns a context that ends interruptGrace after ctx is
// cancelled, or when ctx's deadline passes.
func withGrace(ctx context.Context) (context.Context, context.CancelFunc) {
	gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cancel()
			return
		}
		time.AfterFunc(interruptGrace, cancel)
	})
	return gctx, func() { stop(); cancel() }
}

// end records that the provider ended t's grant: it refused the login's
// own refresh token with invalid_grant (revoked, expired, or a reuse it
// detected). The entry then keeps who and when, and no token: `token`
// exits 4 at once, `status` says why, `logout` does not revoke again.
// A refusal for a resource or organization token is not taken as the end
// of the grant: some providers (Microsoft Entra) answer invalid_grant when
// only that target needs consent. Callers hold the lock.
func (s *Session) end(t *Tokens, err error) {
	var ge *grant.Error
	errors.As(err, &ge)
	reason := term.Clean(ge.Code)
	if d := term.Clean(ge.Description); d != "" {
		if r := []rune(d); len(r) > 200 {
			d = string(r[:200]) + "…"
		}
		reason += ": " + d
	}
	ended := &Tokens{ClientID: t.ClientID, Endpoints: t.Endpoints, Scope: t.Scope, Identity: t.Identity,
		Ended: &Ended{At: s.now().UTC(), Reason: reason}, stored: t.stored}
	if err := s.save(ended); err != nil {
		s.warn("could not record in the store that the login has ended (" + err.Error() + ")")
		return
	}
	s.deleteAll(t.Derived)
}

// explain says what a refused refresh means for the user.
func (s *Session) explain(err error, target Target) error {
	var ge *grant.Error
	if !errors.As(err, &ge) {
		return err
	}
	switch {
	case ge.Code == "invalid_grant":
		who, what := "the provider", "the refresh token"
		if ge.Server != "" {
			who, what = ge.Server, "the session" // session mode: the sealed session ended
		}
		return &LoginRequiredError{Profile: s.Profile, Reason: who + " no longer accepts " + what + ", so the login has ended (" + err.Error() + ")"}
	case ge.Code == "access_denied" && target.Org != "":
		return fmt.Errorf("the provider refused a token for %s: %s; check that you are a member of it", target, orDefault(ge.Description, "access denied"))
	case ge.Code == "insufficient_scope" && target.Org != "":
		return &LoginRequiredError{Profile: s.Profile, Reason: fmt.Sprintf("the provider refused a token for %s: the login lacks the %s scope; log in again with it added to --scope", target, OrganizationsScope)}
	case ge.Code == "invalid_target" && target.Resource != "":
		return &LoginRequiredError{Profile: s.Profile, Reason: fmt.Sprintf("the provider refused a token for %s: it was not part of the login; log in again with --resource %s", target, target.Resource)}
	}
	return err
}

// commit stores the login after a refresh: the rotated refresh token (x/oauth2
// keeps the old one when none is returned) and, when the provider sent one,
// a new ID token, verified first (OpenID Connect Core §12.2 lets providers
// omit it; then the old one stays). The refresh token is kept even when the
// new ID token fails verification: the old one is spent already, and
// dropping its successor would end the login.
func (s *Session) commit(ctx context.Context, next *Tokens, got *grant.Tokens) error {
	next.RefreshToken = got.RefreshToken
	if got.IDToken != "" && next.Endpoints.IsOIDC() {
		id, err := provider.VerifyIDToken(ctx, s.HTTP, next.Endpoints, next.ClientID, got.IDToken, "", s.Now)
		if err == nil && next.Identity != nil && id.Subject != next.Identity.Subject {
			err = fmt.Errorf("the new ID token is for another subject (%q, was %q)", id.Subject, next.Identity.Subject)
		}
		if err != nil {
			s.warn("kept the previous ID token: the refreshed one was refused (" + err.Error() + ")")
		} else {
			next.IDToken, next.Identity = got.IDToken, id
		}
	}
	if err := s.save(next); err != nil {
		// With rotation the old refresh token is spent now; say so.
		return &LoginRequiredError{Profile: s.Profile, Reason: fmt.Sprintf("the tokens were refreshed but could not be stored (%v)", err)}
	}
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

package sessionbroker

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/sessions"
	"github.com/sesame-cli/sesame/verify"
)

// replayWindow is how long a proof's jti is kept: longer than a proof is
// accepted (verify.DefaultProofMaxAge plus verify.DefaultLeeway).
const replayWindow = 2 * time.Minute

// token serves POST /session/token: every grant needs a fresh DPoP proof,
// whose key the session is bound to.
func (h *Handler) token(w http.ResponseWriter, r *http.Request) *apiError {
	form, e := readForm(w, r)
	if e != nil {
		return e
	}
	gt := form.Get("grant_type")
	switch gt {
	case "authorization_code", "refresh_token":
	case "":
		return invalidRequest("grant_type is required")
	default:
		return refuse(http.StatusBadRequest, "unsupported_grant_type", "the session token endpoint takes grant_type authorization_code or refresh_token")
	}
	jkt, e := h.checkProof(r)
	if e != nil {
		return e
	}
	if gt == "refresh_token" {
		return h.renew(w, r, form, jkt)
	}
	return h.redeem(w, r, form, jkt)
}

// checkProof checks the request's one DPoP proof (RFC 9449 §4.3) against
// the issuer's token endpoint, whichever host the request reached, and
// accepts each proof once (§11.1). It returns the key's thumbprint.
func (h *Handler) checkProof(r *http.Request) (string, *apiError) {
	proofs := r.Header.Values("DPoP")
	if len(proofs) != 1 {
		return "", invalidProof("the request needs exactly one DPoP header, a proof of the key the session is bound to (RFC 9449 §4.3)")
	}
	jkt, jti, err := verify.CheckProof(proofs[0], http.MethodPost, h.tokenURL, "", h.cfg.Now(),
		verify.DefaultProofMaxAge, verify.DefaultLeeway)
	if errors.Is(err, verify.ErrInvalidProof) {
		return "", invalidProof(err.Error()) // the package's own words, never the proof's
	} else if err != nil {
		h.log.ErrorContext(r.Context(), "cannot check DPoP proofs", "cause", clip(err.Error()))
		return "", internalError()
	}
	key := "dpop-jti:" + jkt + ":" + jti
	if len(key) > sessions.MaxKey {
		return "", invalidProof("the DPoP proof's jti is too long")
	}
	fresh, err := h.cfg.Store.UseOnce(r.Context(), key, replayWindow)
	if err != nil {
		return "", h.storeFailed(r.Context(), "record the DPoP proof", err)
	}
	if !fresh {
		return "", invalidProof("the DPoP proof was already used: make a new one for each request (RFC 9449 §11.1)")
	}
	return jkt, nil
}

// redeem is the authorization_code grant: the code is exchanged at the
// upstream, its ID token verified, and a session started for a recent
// sign-in.
func (h *Handler) redeem(w http.ResponseWriter, r *http.Request, form url.Values, jkt string) *apiError {
	for _, p := range []string{"code", "redirect_uri", "code_verifier", "provider", "nonce"} {
		if form.Get(p) == "" {
			return invalidRequest(p + " is required")
		}
	}
	u := h.upstreams[form.Get("provider")]
	if u == nil {
		return invalidRequest("the broker has no such provider; its providers endpoint lists them")
	}
	ctx := r.Context()
	tok, err := h.exchange(ctx, u, form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier"))
	if err != nil {
		return h.upstreamError(ctx, u, "exchange", err,
			"the provider refused the authorization code (unknown, used, expired, or issued for another redirect_uri or code_verifier): log in again")
	}
	raw := idTokenOf(tok)
	if raw == "" {
		h.log.WarnContext(ctx, "the provider sent no ID token", "provider", u.Name)
		return badGateway("the provider sent no ID token, and a session starts only from a verified one")
	}
	id, err := provider.VerifyIDToken(ctx, h.cfg.HTTP, u.ep, u.ClientID, raw, "", h.cfg.Now)
	if err != nil {
		h.log.WarnContext(ctx, "the provider's ID token did not verify", "provider", u.Name, "cause", clip(err.Error()))
		return badGateway("the provider's ID token did not verify, so no session was started; the broker's log says why")
	}
	if subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(form.Get("nonce"))) != 1 {
		return invalidGrant("the provider's ID token is not for this login (its nonce differs): log in again")
	}
	authTime, ok := authTimeOf(raw)
	now := h.cfg.Now()
	switch {
	case !ok:
		return invalidGrant("the provider did not say when the user signed in (no auth_time in its ID token), so the broker cannot tell that the sign-in is recent")
	case authTime.After(now.Add(provider.ClockSkew)):
		return invalidGrant("the provider says the user signed in in the future (auth_time): check the clocks")
	case now.Sub(authTime) > h.cfg.MaxAuthAge:
		return refuse(http.StatusBadRequest, "login_required",
			fmt.Sprintf("the sign-in at the provider is older than max_auth_age (%s), so log in again", h.cfg.MaxAuthAge))
	}
	s := sessions.Session{
		ID: sessions.NewSessionID(), Subject: sessions.SubjectFor(u.Issuer, id.Subject), IDP: u.Name,
		Email: id.Email, Name: id.Name, JKT: jkt, AuthTime: authTime, IssuedAt: now, Expiry: now.Add(MaxSessionAge),
	}
	// A sign-in older than a revocation of the subject starts nothing: the
	// upstream may still hold the session the revocation meant to end.
	revoked, err := h.cfg.Store.Revoked(ctx, s.ID, s.Subject, s.AuthTime)
	switch {
	case err != nil:
		return h.storeFailed(ctx, "check the subject", err)
	case revoked:
		return refuse(http.StatusBadRequest, "login_required", "the user's sessions were revoked after this sign-in: sign in at the provider again")
	}
	return h.issue(ctx, w, u, s, tok.RefreshToken, scopeOf(tok), "session started")
}

// issue mints a session token for s, seals s with the upstream refresh
// token, and answers as a token endpoint does (RFC 6749 §5.1). s's
// IssuedAt and Expiry are the session's start and end, kept by renewals.
func (h *Handler) issue(ctx context.Context, w http.ResponseWriter, u *upstream, s sessions.Session, refreshToken, scope, event string) *apiError {
	at, err := h.minter.Mint(s)
	if err != nil {
		h.log.ErrorContext(ctx, "could not mint a session token", "cause", clip(err.Error()))
		return internalError()
	}
	blob, err := h.cfg.Keys.Seal(sessions.Sealed{Session: s, UpstreamRefreshToken: refreshToken, Upstream: u.Name})
	if err != nil {
		h.log.ErrorContext(ctx, "could not seal the session", "provider", u.Name, "cause", clip(err.Error()))
		return internalError()
	}
	resp := map[string]any{
		"access_token":  at,
		"token_type":    "DPoP",
		"expires_in":    int64(h.cfg.Lifetime / time.Second),
		"refresh_token": blob,
	}
	if scope != "" {
		resp["scope"] = scope
	}
	writeJSON(w, http.StatusOK, resp)
	h.log.InfoContext(ctx, event, "provider", u.Name, "sub", s.Subject, "sid", s.ID)
	return nil
}

// storeFailed logs a Store failure and gives the fail-closed answer.
func (h *Handler) storeFailed(ctx context.Context, op string, err error) *apiError {
	h.log.WarnContext(ctx, "the session store failed", "op", op, "cause", clip(err.Error()))
	return storeDown()
}

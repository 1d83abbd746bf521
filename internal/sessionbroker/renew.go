package sessionbroker

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// renew is the refresh_token grant: the refresh token is a sealed
// session, presented with a proof of the key it is bound to. The upstream
// grant is refreshed too, so that a user the provider signed out or
// disabled loses the session at the next renewal; sid, subject, auth_time
// and the key stay those of the sign-in.
func (h *Handler) renew(w http.ResponseWriter, r *http.Request, form url.Values, jkt string) *apiError {
	if form.Has("resource") || form.Has("organization_id") {
		return refuse(http.StatusBadRequest, "invalid_target",
			"session tokens are for every API that trusts the broker; it issues none for one resource or organization")
	}
	blob := form.Get("refresh_token")
	if blob == "" {
		return invalidRequest("refresh_token is required: the sealed session the login received")
	}
	sealed, err := h.cfg.Keys.Open(blob)
	if err != nil {
		return invalidGrant(err.Error()) // always sessions.ErrSealed, which repeats nothing
	}
	if sealed.JKT == "" || subtle.ConstantTimeCompare([]byte(sealed.JKT), []byte(jkt)) != 1 {
		return invalidGrant("the renewal blob is bound to another key: sign the DPoP proof with the login's key")
	}
	ctx, now := r.Context(), h.cfg.Now()
	if !now.Before(sealed.Expiry) {
		return invalidGrant(fmt.Sprintf("the session is older than %d days, the most a session renews: log in again", MaxSessionAge/(24*time.Hour)))
	}
	u := h.upstreams[sealed.Upstream]
	if u == nil {
		return invalidGrant("the provider this session started at is no longer configured at the broker: log in again")
	}
	revoked, err := h.cfg.Store.Revoked(ctx, sealed.ID, sealed.Subject, sealed.AuthTime)
	switch {
	case err != nil:
		return h.storeFailed(ctx, "check the session", err)
	case revoked:
		return invalidGrant("the session was revoked: log in again")
	case sealed.UpstreamRefreshToken == "":
		return invalidGrant("the provider gave no refresh token at the sign-in (was offline_access granted?), so the session cannot be renewed: log in again")
	}
	tok, err := h.refresh(ctx, u, sealed.UpstreamRefreshToken)
	if err != nil {
		e := h.upstreamError(ctx, u, "refresh", err, "the provider ended the session (it refused the refresh token): log in again")
		if e.code == "invalid_grant" {
			h.endSession(ctx, sealed.ID, sealed.Subject, "the provider refused the refresh token")
		}
		return e
	}
	// x/oauth2 answers with the refresh token sent when the upstream did
	// not rotate it.
	return h.issue(ctx, w, u, sealed.Session, tok.RefreshToken, scopeOf(tok), "session renewed")
}

// revokedUntil is how long a revocation made now is kept: past the end of
// any session it can name, and of the last token minted for it.
func (h *Handler) revokedUntil() time.Time {
	return h.cfg.Now().Add(MaxSessionAge + h.cfg.Lifetime)
}

// endSession revokes session sid on the broker's own initiative; a
// failure is logged, since the answer is a refusal anyway.
func (h *Handler) endSession(ctx context.Context, sid, sub, why string) {
	if err := h.cfg.Store.RevokeSession(ctx, sid, h.revokedUntil()); err != nil {
		h.log.WarnContext(ctx, "could not revoke the session", "sid", sid, "sub", sub, "cause", clip(err.Error()))
		return
	}
	h.log.InfoContext(ctx, "session revoked", "sid", sid, "sub", sub, "reason", why)
}

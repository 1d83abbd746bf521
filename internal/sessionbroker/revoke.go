package sessionbroker

import (
	"net/http"
)

// revoke serves POST /session/revoke (RFC 7009) for a sealed session or a
// session token: either revokes the session, on every replica sharing the
// Store. A sealed session's upstream refresh token is revoked at the
// upstream too, best effort. A token that is neither, or an expired
// session token, gets 200 as §2.2 asks; a Store that cannot record the
// revocation gets 503, since the caller must not believe it done.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) *apiError {
	form, e := readForm(w, r)
	if e != nil {
		return e
	}
	tok := form.Get("token")
	if tok == "" {
		return invalidRequest("token is required (RFC 7009 §2.1)")
	}
	ctx := r.Context()
	if sealed, err := h.cfg.Keys.Open(tok); err == nil {
		if err := h.cfg.Store.RevokeSession(ctx, sealed.ID, h.revokedUntil()); err != nil {
			return h.storeFailed(ctx, "revoke a session", err)
		}
		h.log.InfoContext(ctx, "session revoked", "sid", sealed.ID, "sub", sealed.Subject, "reason", "its sealed session was revoked")
		if u := h.upstreams[sealed.Upstream]; u != nil {
			h.revokeUpstream(ctx, u, sealed.UpstreamRefreshToken)
		}
	} else if s, err := h.minter.Parse(tok); err == nil {
		if err := h.cfg.Store.RevokeSession(ctx, s.ID, h.revokedUntil()); err != nil {
			return h.storeFailed(ctx, "revoke a session", err)
		}
		h.log.InfoContext(ctx, "session revoked", "sid", s.ID, "sub", s.Subject, "reason", "its session token was revoked")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return nil
}

// introspection is RFC 7662 §2.2's answer for an active session token.
type introspection struct {
	Active   bool   `json:"active"`
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	SID      string `json:"sid"`
	IDP      string `json:"idp"`
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	AuthTime int64  `json:"auth_time"`
	Cnf      struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

// introspect serves POST /session/introspect (RFC 7662): a session token
// is active when it is the broker's, unexpired, and its session not
// revoked. It fails closed: when the Store cannot say, 503, never active.
func (h *Handler) introspect(w http.ResponseWriter, r *http.Request) *apiError {
	form, e := readForm(w, r)
	if e != nil {
		return e
	}
	tok := form.Get("token")
	if tok == "" {
		return invalidRequest("token is required (RFC 7662 §2.1)")
	}
	inactive := map[string]bool{"active": false}
	s, err := h.minter.Parse(tok)
	if err != nil {
		writeJSON(w, http.StatusOK, inactive)
		return nil
	}
	ctx := r.Context()
	revoked, err := h.cfg.Store.Revoked(ctx, s.ID, s.Subject, s.AuthTime)
	switch {
	case err != nil:
		return h.storeFailed(ctx, "check the session", err)
	case revoked:
		writeJSON(w, http.StatusOK, inactive)
		return nil
	}
	a := introspection{Active: true, Issuer: h.cfg.Issuer, Subject: s.Subject, SID: s.ID, IDP: s.IDP,
		Exp: s.Expiry.Unix(), Iat: s.IssuedAt.Unix(), AuthTime: s.AuthTime.Unix()}
	a.Cnf.JKT = s.JKT
	writeJSON(w, http.StatusOK, a)
	return nil
}

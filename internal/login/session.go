package login

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/sesame-cli/sesame/internal/brokerclient"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/grant"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/verify"
)

// SessionMode is a login whose tokens come from sesame-broker's session
// authority rather than the upstream provider: the broker exchanges the
// code, verifies the upstream's ID token (with the nonce sesame sends it)
// and answers with its own short-lived session token, bound to this
// login's DPoP key, and a sealed renewal blob only the broker can open.
type SessionMode struct {
	Broker   *brokerclient.Metadata
	Provider string // the upstream's name at the broker
	// TokenEndpoint is the broker's session token endpoint as it names
	// it: what the DPoP proofs name (htu), whichever replica gets them.
	TokenEndpoint string
}

func (m *SessionMode) exchangeParams(nonce string) url.Values {
	if m == nil {
		return nil
	}
	v := url.Values{"provider": {m.Provider}}
	if nonce != "" {
		v.Set("nonce", nonce)
	}
	return v
}

// forSession prepares a login in session mode: the upstream's endpoints
// and client come from the broker's list, the request asks for a recent
// sign-in (max_age, the broker mints only after one), and the tokens are
// always bound to a new DPoP key.
func forSession(ctx context.Context, hc *http.Client, p config.Profile) (Options, error) {
	md, err := brokerclient.Discover(ctx, hc, p.Broker)
	if err != nil {
		return Options{}, err
	}
	ps, err := brokerclient.ListProviders(ctx, hc, p.Broker)
	if err != nil {
		return Options{}, err
	}
	up, err := ps.Find(p.Provider)
	if err != nil {
		return Options{}, err
	}
	ep, err := provider.Resolve(ctx, hc, provider.Endpoints{Issuer: up.Issuer})
	if err != nil {
		return Options{}, fmt.Errorf("find the endpoints of the broker's provider %q: %w", p.Provider, err)
	}
	// The broker holds the client's credentials: a pushed request would
	// need them, so the browser carries the request.
	ep.PAR, ep.PARRequired = "", false
	scopes := p.Scopes
	if len(scopes) == 0 {
		scopes = up.Scopes
	}
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	params := map[string]string{}
	for k, v := range p.Params {
		params[k] = v
	}
	if ps.MaxAge > 0 {
		params["max_age"] = strconv.Itoa(ps.MaxAge)
	}
	key, err := newDPoPKey(md.DPoPAlgs)
	if err != nil {
		return Options{}, err
	}
	return Options{
		Endpoints: ep, ClientID: up.ClientID, Scopes: scopes, Resources: p.Resources, Params: params, Port: p.Port,
		HTTP: hc, Timeout: DefaultTimeout, TokenURL: session.BrokerURL(p.Broker, "/session/token"),
		NoPreflight: p.NoPreflight, DPoP: key,
		Session: &SessionMode{Broker: md, Provider: up.Name, TokenEndpoint: md.TokenEndpoint},
	}, nil
}

// keepSession verifies the broker's answer and stores it: a session token
// signed by the broker's keys, for this login's key (cnf.jkt), with the
// sealed blob as its refresh token. The stored endpoints are the
// broker's, so that renewal, claims, introspection and logout all go
// there.
func keepSession(ctx context.Context, o Options, got *grant.Tokens) (*session.Tokens, error) {
	md := o.Session.Broker
	v := &verify.Verifier{Issuer: md.Issuer, HTTP: o.HTTP, Now: o.Now}
	c, err := v.Verify(ctx, got.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("the broker's session token does not verify: %w", err)
	}
	if c.JKT != o.DPoP.Thumbprint() {
		return nil, fmt.Errorf("the broker's session token is bound to another key than this login's (cnf.jkt)")
	}
	if got.RefreshToken == "" {
		return nil, fmt.Errorf("the broker sent no renewal blob with the session token")
	}
	k, err := o.DPoP.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("keep the DPoP key: %w", err)
	}
	t := &session.Tokens{
		ClientID: o.ClientID, Provider: o.Session.Provider,
		Endpoints: provider.Endpoints{Issuer: md.Issuer, Token: md.TokenEndpoint, JWKS: md.JWKSURI,
			Revocation: md.RevocationEndpoint, Introspection: md.IntrospectionEndpoint},
		AccessToken: got.AccessToken, TokenType: got.TokenType, RefreshToken: got.RefreshToken,
		Expiry: got.Expiry, Scope: got.Scope, ObtainedAt: o.Now().UTC(), DPoPKey: k,
		Identity: &provider.Identity{Subject: c.Subject, Name: c.Name, Email: c.Email, Expiry: c.Expiry},
	}
	if err := o.Save(t); err != nil {
		return nil, err
	}
	return t, nil
}

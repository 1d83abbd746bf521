// Package sessionbroker is sesame-broker's session mode: the HTTP side of
// a session authority, built on package sessions.
//
// The sesame CLI signs the user in at an upstream provider (browser,
// loopback redirect, PKCE, nonce, max_age) with the client that
// GET /providers names, and redeems the code here rather than at the
// provider. The broker exchanges it as that provider's confidential
// client, verifies the upstream ID token (signature, iss, aud, exp, the
// login's nonce), requires a recent sign-in (auth_time at most
// Config.MaxAuthAge old, as Firebase creates session cookies only after
// one), and answers with two things of its own:
//
//   - a session token: a short-lived ES256 JWT (RFC 9068) bound to the
//     CLI's DPoP key (cnf.jkt, RFC 9449 §6.1), which APIs verify offline
//     with package verify;
//   - a sealed session as the refresh token: the upstream refresh token
//     and the session's claims, encrypted for the broker alone
//     (sessions.Keys.Seal), so that the broker keeps nothing per session
//     and any replica can renew.
//
// # Routes
//
// Relative to the path of Config.Issuer (an issuer of
// https://b.example/auth serves /auth/session/token):
//
//	GET  /.well-known/openid-configuration  metadata (RFC 8414 §2 names)
//	GET  /session/jwks                      the session keys (RFC 7517 §5)
//	GET  /providers                         upstreams and max_age, for the CLI
//	POST /session/token                     authorization_code and refresh_token grants, DPoP required
//	POST /session/revoke                    RFC 7009: a sealed session or a session token
//	POST /session/introspect                RFC 7662: a session token
//
// # Token endpoint
//
// Every request carries exactly one DPoP header: a proof (RFC 9449 §4)
// for POST to Issuer+"/session/token", whatever host the request reached,
// so that replicas behind a load balancer agree; each proof is accepted
// once (its jti is kept in the Store for two minutes, §11.1). The
// authorization_code grant takes code, redirect_uri, code_verifier,
// provider (an upstream's name) and nonce; the refresh_token grant takes
// refresh_token, the sealed session, with a proof of the key it is bound
// to. Both answer token_type DPoP, the session token, its expires_in, the
// sealed session and the upstream's scope. client_id, which the CLI
// sends, is not used: the DPoP key is what the session is bound to.
//
// A renewal refreshes the upstream grant with the sealed refresh token
// (so that a user disabled or signed out upstream loses the session at
// the next renewal), keeps the session's sid, subject and auth_time, and
// seals the rotated refresh token. A session renews for at most
// MaxSessionAge after it was minted; then the user logs in again.
//
// # Revocation
//
// Revoking a sealed session or a session token revokes its sid, for
// longer than any session can last, in the Store that every replica
// shares; revoking a sealed session also revokes its upstream refresh
// token where the upstream has a revocation endpoint. Handler.RevokeSubject
// revokes every session of a subject signed in until now. Renewal and
// introspection ask the Store; APIs that only verify offline learn of a
// revocation when the session token expires (Config.Lifetime).
//
// # Failures
//
// Errors are RFC 6749 §5.2 objects whose descriptions never repeat what
// the caller sent. When the Store cannot answer, requests that need it
// fail closed: 503 temporarily_unavailable, nothing minted, no session
// reported active. Upstream refusals of a code or refresh token become
// invalid_grant; any other upstream failure is 502 server_error with a
// description of the broker's own. The log never holds a token, code,
// sealed session, proof or secret.
package sessionbroker

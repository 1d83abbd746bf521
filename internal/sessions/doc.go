// Package sessions is the core of sesame-broker's session mode, without
// its HTTP handlers.
//
// In session mode the broker signs the user in at an upstream provider as
// usual (it exchanges the code and verifies the upstream ID token), then
// hands the CLI two things of its own instead of the provider's tokens:
//
//   - a session token (Minter): a short-lived ES256 JWT access token
//     (RFC 9068 shape) bound to the CLI's DPoP key (RFC 9449 §6.1), which
//     APIs verify offline with the broker's JWKS (Keys.JWKS);
//   - a sealed session (Keys.Seal): an opaque blob, encrypted for the
//     broker alone, holding the upstream refresh token. The CLI keeps it
//     as its refresh token and presents it, with a DPoP proof of the same
//     key, to renew the session.
//
// The broker keeps no per-session state: any replica can open a blob. What
// replicas must share, revocations and used DPoP proofs, lives in a Store:
// in memory for a single replica, in Redis for several (OpenStore).
//
// Keys rotate by order: the first configured key signs and seals, every
// key verifies and opens. Add the new key first, keep the old one second
// until its last session token and sealed session have expired, then drop
// it.
package sessions

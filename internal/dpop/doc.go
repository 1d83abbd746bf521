// Package dpop is the client side of DPoP, RFC 9449: a key pair kept with
// the tokens, a fresh signed proof on every request that names the method
// and URL, and answers to the servers' nonce challenges. Tokens bound to
// the key (cnf.jkt, https://www.rfc-editor.org/rfc/rfc9449#section-6)
// are worthless to whoever copies them without it.
package dpop

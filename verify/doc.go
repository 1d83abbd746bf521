// Package verify checks the session tokens that sesame-broker mints, for
// the APIs that receive them.
//
// In session mode the broker signs, after a sign-in at an upstream
// provider, a short-lived JWT of its own (RFC 9068, header typ "at+jwt",
// signed ES256) that names the person (sub, email, name), the provider
// they signed in at (idp) and the broker session (sid). Most tokens are
// bound to the DPoP key of the sesame CLI that asked for them (cnf.jkt,
// RFC 9449 §6): whoever copies such a token without the key can do
// nothing with it, because every request must carry a fresh proof signed
// by that key.
//
// A Verifier checks everything offline, from the broker's published keys
// (found through its discovery document, cached, and fetched again when a
// token names a key it has not seen): the token's signature, issuer and
// lifetime, and, for a request, the DPoP proof that goes with it. Only
// Active asks the broker, whether the session still lives, for the few
// operations that must not outlive a sign-out.
//
// An API protects its handlers with Middleware and reads the claims with
// FromContext:
//
//	v := &verify.Verifier{Issuer: "https://broker.example.com"}
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /v1/me", func(w http.ResponseWriter, r *http.Request) {
//		c, _ := verify.FromContext(r.Context())
//		fmt.Fprintf(w, "hello %s (%s via %s)\n", c.Name, c.Subject, c.IDP)
//	})
//	http.ListenAndServe(":8080", verify.Middleware(v, verify.MiddlewareOptions{})(mux))
//
// The sesame CLI calls such an API with `sesame api`, or from a script:
//
//	curl -H "Authorization: DPoP $(sesame token)" \
//	  -H "DPoP: $(sesame proof GET https://api.example.com/v1/me)" https://api.example.com/v1/me
//
// Behind a proxy that terminates TLS or rewrites paths, set
// Verifier.PublicURL so that proofs are checked against the URL the
// client used.
//
// Refusals answer 401 with a WWW-Authenticate challenge as RFC 9449 §7.1
// and RFC 6750 §3 describe them, and 503 when the broker cannot be asked.
// Errors match ErrNoToken, ErrInvalidRequest, ErrInvalidToken,
// ErrInvalidProof or ErrUnavailable with errors.Is; none of them ever
// holds the token or the proof.
//
// The package depends on the standard library alone.
package verify

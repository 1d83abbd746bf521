// Package broker is sesame-broker: a small, stateless token-exchange
// service that lets the sesame CLI use a confidential OAuth 2.0 client
// without ever holding its secret.
//
// The CLI runs the authorization code flow itself (loopback redirect,
// PKCE, system browser; RFC 8252) and sends the code, and later refresh
// tokens, to the broker's token endpoint with its client_id and no secret.
// The broker checks the request, adds the client's authentication
// (client_secret_basic or client_secret_post, RFC 6749 §2.3.1) and forwards
// an allow-listed set of parameters to the provider; the provider's
// answer comes back unchanged. The broker keeps no tokens and no sessions,
// so any number of replicas can run behind a load balancer.
//
// # Endpoints
//
//	POST /token       RFC 6749 §4.1.3 (authorization_code, PKCE required) and §6 (refresh_token)
//	POST /revoke      RFC 7009
//	POST /introspect  RFC 7662
//	POST /par         RFC 9126 pushed authorization request (PKCE S256 required); 404 when the provider has none
//	GET  /healthz     200 while the process runs
//	GET  /readyz      200 once every client's endpoints are known, else 503 naming the issuers
//	GET  /metrics     Prometheus exposition format (or on metrics_listen)
//
// Forwarded parameters: authorization_code takes grant_type, code,
// redirect_uri, code_verifier and resource (repeatable); refresh_token takes
// grant_type, refresh_token, scope, resource (repeatable) and
// organization_id (Logto organization tokens); /revoke and /introspect take
// token and token_type_hint. Everything else is dropped, except at /par,
// which pushes the authorization request's own parameters (any a browser's
// authorization URL could carry) once response_type is code, PKCE S256 is
// there and the redirect_uri is allowed; request and request_uri are
// refused there, since they would carry parameters the broker never
// checked. Parameters in the
// URL's query are ignored: only the form body counts (RFC 6749 §3.2).
//
// Refusals are RFC 6749 §5.2 error objects with Cache-Control: no-store:
// 401 invalid_client for a missing or unknown client_id; 400
// invalid_request for a caller's own Authorization header or client_secret,
// a missing or malformed code_verifier (RFC 7636 §4.1) or, at /par,
// code_challenge (S256 only), a missing or disallowed redirect_uri, a repeated parameter or a missing one,
// a DPoP header that is repeated, over 8 KiB or not a compact JWS; 400
// unsupported_grant_type for a grant type that is unknown or not allowed
// for the client; 405 (with Allow), 413 over 64 KiB, 415 for a body that
// is not application/x-www-form-urlencoded, 429 (with Retry-After) over
// the rate limit, 502 when the provider is unreachable or answers with
// something other than JSON, 503 while its discovery document has never
// been fetched, 504 when it does not answer within upstream_timeout.
//
// # DPoP
//
// DPoP proofs (RFC 9449) pass through. A DPoP header on a token request or
// a pushed authorization request reaches the provider byte for byte, next
// to the client authentication the broker adds; the provider's DPoP-Nonce
// comes back with its answer, the use_dpop_nonce error included (§8), and
// so does its JSON, token_type DPoP unchanged. The proof names the
// provider's endpoint (htu) and is signed with a key the broker never sees;
// the broker checks its shape only: one DPoP header (§4.3), at most 8 KiB,
// a compact JWS of three base64url parts. A DPoP-Nonce is passed on only
// when it is one value of 1 to 1024 NQCHAR (§8.1). /revoke and
// /introspect drop a DPoP header: RFC 9449 defines no proof for them, they
// are authenticated with the broker's client credentials, and a
// confidential client's refresh tokens are not bound to the key (§5).
//
// # Connections to providers
//
// Forwarded requests go over a pool of persistent HTTP/1.1 connections
// (TLS 1.2 or later with the certificate verified, at most 256 idle per
// provider, closed after 90 s idle), each written and its answer read on
// the request's own goroutine, which saves a loopback hop tens of
// microseconds of thread wake-ups. A connection is kept only after an
// answer read to its end and not marked close, and is checked before reuse
// for a provider that closed it meanwhile; a request is never sent twice.
// Requests through HTTP_PROXY or HTTPS_PROXY, discovery, and every request
// on platforms without that check (Windows) go through Go's http.Transport.
//
// # Configuration
//
// Config is the whole configuration, and New takes nothing else: this
// package reads no flags, environment or configuration file. The
// sesame-broker command (internal/brokercmd) builds a Config from its
// flags, SESAME_BROKER_* variables and a YAML file whose keys are
// Config's; a complete example:
//
//	listen: 127.0.0.1:8787          # host:port
//	metrics_listen: 127.0.0.1:9787  # optional: /metrics there instead of on listen
//	tls_cert: /etc/sesame/cert.pem  # optional: both or neither; plain HTTP otherwise
//	tls_key: /etc/sesame/key.pem
//	log_format: json                # text (default) | json
//	log_level: info                 # debug | info (default) | warn | error
//	upstream_timeout: 10s           # limit on every call to a provider (default 10s)
//	discovery_refresh: 15m          # how often discovery documents are refetched (default 15m)
//	rate_limit: 10                  # requests/s per client IP, per /64 for IPv6 (default 10; 0 disables)
//	rate_burst: 20                  # (default 20)
//	trusted_proxies: [10.0.0.0/8]   # whose X-Forwarded-For is believed (default none)
//	clients:
//	  - client_id: sesame-cli
//	    issuer: https://tenant.logto.app/oidc
//	    client_secret_file: /run/secrets/client-secret   # or client_secret_env: VAR_NAME
//	    auth_method: client_secret_basic                 # or client_secret_post
//	    grant_types: [authorization_code, refresh_token] # the default
//	    redirect_uris: ["http://127.0.0.1:*/*", "http://[::1]:*/*"]  # the default
//	  - client_id: Iv1.0123456789abcdef                  # a provider without discovery
//	    token_url: https://github.com/login/oauth/access_token
//	    # revocation_url and introspection_url: optional, for providers that have them
//	    client_secret_env: GITHUB_CLIENT_SECRET
//	    auth_method: client_secret_post
//
// With an issuer, the token, revocation and introspection endpoints come
// from its discovery document, fetched at start and every
// discovery_refresh; token_url, revocation_url and introspection_url
// override it. A failed refresh keeps the last good document. The broker
// starts even when discovery fails, and /readyz tells. Provider URLs must be
// https (http only on a loopback host), as the secret is sent there. The
// request body limit is fixed at 64 KiB.
//
// # Redirect URI patterns
//
// redirect_uris entries are scheme://host[:port]/path with two wildcards:
// a port of "*" matches any port (one must be present), and a path ending
// in "*" matches any continuation. Hosts match exactly (IP literals as
// addresses), so "http://127.0.0.1:*/*" never matches 127.0.0.1.evil.com.
// Plain http is allowed only for loopback hosts (RFC 8252 §8.3), and
// "localhost" only when written out, never by default. A redirect_uri with
// user information, a query, a fragment or a "." or ".." path segment never
// matches.
//
// # Logs and metrics
//
// One log line per API request (endpoint, client_id once known to be
// configured, grant_type, status, upstream_status, the provider's error
// code, the broker's own error when it answered itself, outcome, duration,
// client_ip, and dpop=true when a DPoP proof was forwarded), to stdout in
// text or JSON; usage errors and loud warnings go
// to stderr. No
// parameter value, header or body is ever logged: codes, verifiers,
// tokens and secrets pass through this service. Metrics:
// sesame_broker_requests_total{endpoint,grant_type,outcome},
// sesame_broker_upstream_duration_seconds{endpoint} (histogram),
// sesame_broker_in_flight, sesame_broker_rate_limited_total and
// sesame_broker_discovery_failures_total.
//
// # Running it in tests
//
// End-to-end tests start a broker in-process on a free port:
//
//	cfg := broker.Defaults()
//	cfg.Listen = "127.0.0.1:0"
//	cfg.Clients = []broker.Client{{ID: "sesame", Issuer: idp.Issuer, Secret: "s3cret"}}
//	srv, err := broker.Start(ctx, cfg, broker.Options{})
//	defer srv.Close()
//	// sesame login --broker srv.URL; the token endpoint is srv.URL + "/token".
//
// Server.Run drains in-flight requests for up to upstream_timeout + 5s
// once its context ends.
package broker

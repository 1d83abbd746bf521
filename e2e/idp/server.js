#!/usr/bin/env node
// Test OpenID Provider for sesame's end-to-end tests.
//
// A real oidc-provider listening on 127.0.0.1 only, with in-memory users, our
// own plain-HTML login and consent pages, and an optional JSON-lines event log.
//
// It also plays Logto's organizations (RFC 0001 in logto-io/rfcs): the
// urn:logto:scope:organizations scope, the "organizations" claim, and
// organization tokens from refresh_token grants with organization_id (see
// organizationRefresh). What those requests answer is described once, in
// internal/testidp/testdata/logto-organizations.json: e2e/organizations_test.go
// runs it against this server, and internal/testidp's tests against the Go
// provider, whose package doc lists where the two differ.
//
//   node e2e/idp/server.js [--port N] [--path /oidc] [--id-token-alg RS256|ES384|PS256|EdDSA]
//                          [--access-token-ttl S] [--refresh-token-ttl S] [--id-token-ttl S] [--events FILE]
//                          [--no-par] [--exact-redirect URI]
//                          [--secrets FILE] [--access-token-padding BYTES]
//                          [--dpop-nonce | --no-dpop]
//
// --secrets FILE is for the leak checks of the tests, and nothing else: every
// secret value the provider issues (authorization codes, device codes, access,
// refresh and ID tokens) or receives (PKCE verifiers, codes, refresh tokens,
// client secrets) is appended to FILE, one JSON line each, so the tests can
// search everything sesame and the broker wrote for all of them, spent ones
// included. --access-token-padding adds a claim of that many bytes to every
// JWT access token (resource and organization tokens), as providers that put
// group lists in tokens do: a stored value large enough to be chunked.
//
// It offers pushed authorization requests (RFC 9126) and, like Logto and most
// providers for native apps, matches a loopback redirect URI with any port
// (RFC 8252 section 7.3). --no-par and --exact-redirect URI give the other kind
// of provider, which sesame must serve as well: no pushed requests, and every
// client registered with the one redirect URI given, matched exactly, port
// included (a web application client, for which oidc-provider does that). A
// client registered with the wrong redirect URI is always there:
// sesame-localhost, with http://localhost/callback only.
//
// DPoP (RFC 9449) is on, as it is by default in oidc-provider: a client that
// sends a DPoP proof (ES256, Ed25519 or EdDSA) with its token request gets
// access tokens of token_type DPoP bound to the proof's key (cnf.jkt in JWT
// access tokens), and, as a public client, refresh tokens bound to it too;
// userinfo then wants the DPoP scheme and a proof. dpop_jkt in an
// authorization or pushed request, or a proof sent with the pushed request,
// binds the authorization code to a key. A client that sends no proof gets
// Bearer tokens as before. --dpop-nonce makes the provider require a nonce
// it issued (DPoP-Nonce) in every proof, at the token, pushed authorization
// and userinfo endpoints and at the API below. --no-dpop turns DPoP off: the
// provider ignores proofs and issues Bearer tokens only.
//
// A small protected resource, the API, lives at /api on the same origin,
// outside the mount path (so --path /api is refused). It takes the access
// tokens of this provider: opaque ones are looked up in the provider (so
// revoked and expired ones are refused), JWT ones (resource and organization
// tokens, any audience) are verified with the provider's keys. A DPoP-bound
// token must come with the DPoP scheme and a proof, which the API checks
// itself as RFC 9449 sections 4.3 and 7.1 say, its nonces (--dpop-nonce) and
// seen proof ids being its own, not the provider's. Every answer is JSON.
//   GET /api/me           {"sub","client_id","token_type":"DPoP"|"Bearer","scope"[,"aud"]}
//   ANY /api/echo         {"method","path","headers":{name:value},"query":{name:[values]},"body":"text"},
//                         with the values of Authorization and DPoP shown as "[present]"
//   GET /api/items?page=N pages 1 to 3 of two items each, [{"id":1},{"id":2}] and so on,
//                         with Link: <http://127.0.0.1:PORT/api/items?page=N+1>; rel="next"
//                         on pages 1 and 2; later pages are []
//   ANY /api/reject-once  refuses the first access token of each grant it sees (for a
//                         JWT: of each client, user and audience), and that token
//                         again every time, as if it had been revoked (401
//                         invalid_token); any other token of the grant passes, for
//                         a client's refresh and retry. Answers
//                         {"sub","client_id","token_type","method","body":"text"}.
// Refusals carry {"error","error_description"} and, for 400 and 401, a
// WWW-Authenticate challenge: without a token, 401 with "Bearer" and
// 'DPoP algs="..."' (no error code); an unknown, expired or revoked token,
// 401 error="invalid_token" in the scheme the request used; a DPoP-bound
// token sent as Bearer, 401 DPoP error="invalid_token"; an unbound token sent
// as DPoP, 401 Bearer error="invalid_token"; a missing, bad or replayed proof,
// 401 DPoP error="invalid_dpop_proof"; a proof without a nonce of the API's or
// with an unknown one (--dpop-nonce), 401 DPoP error="use_dpop_nonce" and a
// DPoP-Nonce header; another scheme, or DPoP with --no-dpop, 400 Bearer
// error="invalid_request". Unknown paths answer 404, wrong methods 405. Every
// request to the API is an api.request event: method, path, status, count
// (the how-many-th request to that path it was), token (whether an
// Authorization header came), scheme, token_type, client_id and error.
//
// When it is ready it prints exactly one JSON line on stdout:
//   {"issuer":"http://127.0.0.1:PORT[/path]","port":PORT,
//    "confidential_client_id":"sesame-confidential","confidential_client_secret":"...",
//    "api":"http://127.0.0.1:PORT/api","dpop":true|false,"dpop_nonce":true|false}
// Everything else (logs, oidc-provider notices) goes to stderr.

import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';

// stdout carries the ready line and nothing else: oidc-provider prints its
// configuration notices with console.info, so send every console method to stderr.
for (const method of ['log', 'info', 'debug']) console[method] = console.error;

const ID_TOKEN_ALGS = ['RS256', 'ES384', 'PS256', 'EdDSA'];
// What DPoP proofs may be signed with: oidc-provider's default, said
// explicitly, as the API checks proofs against the same list.
const DPOP_ALGS = ['ES256', 'Ed25519', 'EdDSA'];
// Where the API is, outside the mount path.
const API_PATH = '/api';

// Logto's scope for organizations, and the audience of an organization token.
const ORGANIZATIONS_SCOPE = 'urn:logto:scope:organizations';
const organizationAudience = (id) => `urn:logto:organization:${id}`;

function fail(message) {
  console.error(`idp: ${message}`);
  process.exit(2);
}

function intArg(name, min) {
  const n = Number(args[name]);
  if (!/^\d+$/.test(args[name]) || n < min) fail(`--${name} must be an integer >= ${min}, got ${args[name]}`);
  return n;
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      path: { type: 'string', default: '' },
      'id-token-alg': { type: 'string', default: 'RS256' },
      'access-token-ttl': { type: 'string', default: '3600' },
      'refresh-token-ttl': { type: 'string', default: '86400' },
      'id-token-ttl': { type: 'string', default: '3600' },
      events: { type: 'string' },
      'no-par': { type: 'boolean', default: false },
      'exact-redirect': { type: 'string' },
      secrets: { type: 'string' },
      'access-token-padding': { type: 'string', default: '0' },
      'dpop-nonce': { type: 'boolean', default: false },
      'no-dpop': { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (err) {
  fail(err.message);
}

const port = intArg('port', 0);
const accessTokenTTL = intArg('access-token-ttl', 1);
const refreshTokenTTL = intArg('refresh-token-ttl', 1);
const idTokenTTL = intArg('id-token-ttl', 1);
const accessTokenPadding = intArg('access-token-padding', 0);
const idTokenAlg = args['id-token-alg'];
if (!ID_TOKEN_ALGS.includes(idTokenAlg)) fail(`--id-token-alg must be one of ${ID_TOKEN_ALGS.join(', ')}`);
// "/oidc", "oidc/" and "/oidc/" all mean the same mount path; "" or "/" means none.
const mountPath = args.path.replace(/^\/*/, '/').replace(/\/+$/, '');
if (mountPath && !/^(\/[A-Za-z0-9._~-]+)+$/.test(mountPath)) fail(`--path must be a plain URL path, got ${args.path}`);
if (mountPath === API_PATH || mountPath.startsWith(`${API_PATH}/`)) fail(`--path must not be under ${API_PATH}, where the API is`);
const dpopEnabled = !args['no-dpop'];
const dpopNonce = args['dpop-nonce'];
if (dpopNonce && !dpopEnabled) fail('--dpop-nonce and --no-dpop do not go together');

// ---------------------------------------------------------------------------
// Event log: one JSON line per event. Token values never go in here; grant ids
// and client ids do, so tests can correlate e.g. reuse detection and revocation.

function record(event, fields = {}) {
  console.error(`idp: event ${event} ${JSON.stringify(fields)}`);
  if (!args.events) return;
  // Synchronous, so the line is on disk before the HTTP response is sent.
  appendFileSync(args.events, `${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);
}

// The secrets file (--secrets): test-only, see the top of this file. Like the
// event log it is written synchronously, before the response leaves.
function recordSecret(kind, value, fields = {}) {
  if (!args.secrets || typeof value !== 'string' || value === '') return;
  appendFileSync(args.secrets, `${JSON.stringify({ kind, value, ...fields })}\n`);
}

const errorFields = (err) => ({
  error: err.error || err.message,
  error_description: err.error_description,
  error_detail: err.error_detail,
});

// ---------------------------------------------------------------------------
// Users, kept in memory, with the ids of the Logto organizations they are
// members of. No organization roles exist, so organization tokens carry no scope.

const USERS = {
  alice: {
    password: 'wonderland', name: 'Alice Liddell', email: 'alice@example.com', email_verified: true,
    organizations: ['acme', 'globex'],
  },
  bob: {
    password: 'builder', name: 'Bob Builder', email: 'bob@example.com', email_verified: true,
    organizations: ['globex'],
  },
};

const isMember = (accountId, organizationId) => Object.hasOwn(USERS, accountId)
  && USERS[accountId].organizations.includes(organizationId);

async function findAccount(_ctx, sub) {
  const user = USERS[sub];
  if (!user) return undefined;
  return {
    accountId: sub,
    // oidc-provider filters these by the granted scopes and claims.
    async claims() {
      return {
        sub, name: user.name, email: user.email, email_verified: user.email_verified,
        organizations: [...user.organizations],
      };
    },
  };
}

// ---------------------------------------------------------------------------
// Signing keys, fresh on every start: one per supported ID token algorithm, each
// with a kid and its alg pinned, so the JWKS has a key for every choice.

async function signingKey(alg, kid, options) {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true, ...options });
  return { ...(await jose.exportJWK(privateKey)), alg, use: 'sig', kid };
}

const jwks = {
  keys: [
    await signingKey('RS256', 'rs256', { modulusLength: 2048 }),
    await signingKey('PS256', 'ps256', { modulusLength: 2048 }),
    await signingKey('ES384', 'es384'),
    await signingKey('EdDSA', 'eddsa', { crv: 'Ed25519' }),
  ],
};

// ---------------------------------------------------------------------------
// Clients. application_type "native" makes oidc-provider match a registered
// loopback redirect URI (http://127.0.0.1/... or http://[::1]/...) with any port
// (RFC 8252 section 7.3), which is what a CLI's random-port listener needs.

const confidentialSecret = randomBytes(32).toString('base64url'); // URL-safe: no escaping issues in Basic auth

// --exact-redirect URI: every client is a web application registered with URI
// alone, which oidc-provider matches exactly, port included.
const exactRedirect = args['exact-redirect'];
if (exactRedirect !== undefined && URL.parse(exactRedirect)?.protocol !== 'http:') fail(`--exact-redirect must be an http:// URI, got ${exactRedirect}`);
const redirectRegistration = exactRedirect === undefined ? {} : { application_type: 'web', redirect_uris: [exactRedirect] };

const nativeClient = {
  application_type: 'native',
  redirect_uris: ['http://127.0.0.1/callback', 'http://[::1]/callback'],
  post_logout_redirect_uris: [
    'http://127.0.0.1/callback', 'http://[::1]/callback',
    'http://127.0.0.1/logout', 'http://[::1]/logout',
  ],
  grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
  response_types: ['code'],
  id_token_signed_response_alg: idTokenAlg,
};

const clients = [
  { ...nativeClient, ...redirectRegistration, client_id: 'sesame-cli', token_endpoint_auth_method: 'none' },
  // A first mistake: the redirect URI registered with localhost, where sesame
  // sends 127.0.0.1 (RFC 8252 section 8.3), so no login of this client works.
  {
    ...nativeClient, client_id: 'sesame-localhost', token_endpoint_auth_method: 'none',
    redirect_uris: ['http://localhost/callback'], post_logout_redirect_uris: [],
  },
  // A client has exactly one token_endpoint_auth_method in oidc-provider, so
  // client_secret_post gets its own client with the same secret.
  {
    ...nativeClient,
    ...redirectRegistration,
    client_id: 'sesame-confidential',
    client_secret: confidentialSecret,
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    ...nativeClient,
    ...redirectRegistration,
    client_id: 'sesame-confidential-post',
    client_secret: confidentialSecret,
    token_endpoint_auth_method: 'client_secret_post',
  },
];

// ---------------------------------------------------------------------------
// Resource indicators (RFC 8707): any https:// resource is a resource server
// whose access tokens are JWTs with aud = the resource. Without a resource the
// access token stays opaque and is good for userinfo.

async function getResourceServerInfo(_ctx, resource) {
  if (URL.parse(resource)?.protocol !== 'https:') {
    throw new errors.InvalidTarget('only https:// resource indicators are accepted');
  }
  return {
    scope: 'read write',
    audience: resource,
    accessTokenTTL,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: idTokenAlg } },
  };
}

// ---------------------------------------------------------------------------
// Logto organization tokens. oidc-provider has no organization_id, and Logto
// gets it by forking the refresh_token grant. Here the stock grant is wrapped
// instead: oidc-provider registers its built-in grants through
// registerGrantType while it is constructed, so a subclass overriding that
// method receives the stock handler and can put organizationRefresh around
// it. The wrapper runs where the grant would, after client authentication and
// parameter parsing, and what it throws becomes an RFC 6749 error response
// and a grant.error event like any refusal of the grant itself.

// The organization of the refresh in progress, once it has been allowed: read
// by extraTokenClaims and by the grant.success event.
const refreshOrganization = new WeakMap();
let organizationGrantInstalled = false;

class LogtoProvider extends Provider {
  registerGrantType(name, handler, params, dupes) {
    if (name === 'refresh_token') {
      organizationGrantInstalled = true;
      const names = typeof params === 'string' ? [params] : [...(params ?? [])];
      // An unregistered parameter would be dropped before the handler sees it.
      super.registerGrantType(name, organizationRefresh(handler), new Set([...names, 'organization_id']), dupes);
      return;
    }
    super.registerGrantType(name, handler, params, dupes);
  }
}

function forbidden(err) {
  err.status = 403;
  err.statusCode = 403; // what oidc-provider's error handler answers with
  return err;
}

// organizationRefresh adds Logto's organization_id to the refresh_token grant,
// answering as internal/testidp/testdata/logto-organizations.json says. Logto's
// refusals leave the refresh token as it was: they are decided here, before
// the stock grant rotates it.
//  1. The refresh token lacks urn:logto:scope:organizations: 403 insufficient_scope.
//  2. Anything the stock grant refuses (unknown, expired or reused token,
//     revoked grant, scope not granted, a DPoP-bound token without a proof
//     of its key) it refuses itself, reuse revoking the grant, so those are
//     left to it.
//  3. The user is not a member: 403 access_denied.
//  4. Otherwise the stock grant rotates the refresh token and issues an access
//     token: for a resource, a JWT for it, to which extraTokenClaims adds
//     organization_id; without one, an opaque userinfo token, which is
//     replaced with the organization token.
function organizationRefresh(stock) {
  return async function organizationRefreshHandler(ctx) {
    const { provider, client, params } = ctx.oidc;
    const organizationId = params.organization_id;
    if (!organizationId) {
      await stock(ctx);
      return;
    }

    const refreshToken = params.refresh_token
      ? await provider.RefreshToken.find(params.refresh_token, { ignoreExpiration: true })
      : undefined;
    const member = Boolean(refreshToken) && isMember(refreshToken.accountId, organizationId);
    if (refreshToken?.clientId === client.clientId) {
      if (!refreshToken.scopes.has(ORGANIZATIONS_SCOPE)) {
        throw new errors.InsufficientScope('refresh token missing required scope', ORGANIZATIONS_SCOPE);
      }
      const grant = await provider.Grant.find(refreshToken.grantId);
      const stockAccepts = !refreshToken.isExpired && !refreshToken.consumed
        && grant?.clientId === client.clientId
        && [...ctx.oidc.requestParamScopes].every((s) => refreshToken.scopes.has(s))
        && await proofKeyIs(ctx, refreshToken.jkt);
      if (stockAccepts && !member) {
        throw forbidden(new errors.AccessDenied('user is not a member of the organization'));
      }
    }
    if (!member) {
      await stock(ctx); // refuses the token (step 2)
      throw new Error('the refresh_token grant accepted a token it should have refused');
    }

    refreshOrganization.set(ctx, organizationId);
    await stock(ctx);
    if (!params.resource) await replaceWithOrganizationToken(ctx, organizationId);
  };
}

// proofKeyIs tells whether a refresh token bound to the key jkt (DPoP) comes
// with a proof of that key, which the stock grant requires. Only the key is
// looked at: the stock grant checks the rest of the proof.
async function proofKeyIs(ctx, jkt) {
  if (!jkt) return true;
  try {
    return await jose.calculateJwkThumbprint(jose.decodeProtectedHeader(ctx.get('DPoP')).jwk) === jkt;
  } catch {
    return false;
  }
}

// replaceWithOrganizationToken swaps the access token of a successful refresh
// for the organization token Logto issues: a JWT with the organization's
// audience, signed like resource tokens, made and saved by oidc-provider
// itself (so it has a kid from /jwks and typ at+jwt). Its scope would be the
// organization scopes the user's roles grant; there are no roles here, so it
// is empty, which oidc-provider's JWT format leaves out of the token and its
// token response sends as "".
async function replaceWithOrganizationToken(ctx, organizationId) {
  const { provider, client, entities: { AccessToken: userinfoToken } } = ctx.oidc;
  const audience = organizationAudience(organizationId);
  const at = new provider.AccessToken({
    accountId: userinfoToken.accountId,
    client,
    expiresWithSession: userinfoToken.expiresWithSession,
    grantId: userinfoToken.grantId,
    gty: userinfoToken.gty,
    sessionUid: userinfoToken.sessionUid,
    sid: userinfoToken.sid,
  });
  at.resourceServer = new provider.ResourceServer(audience, {
    audience,
    scope: '',
    accessTokenTTL,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: idTokenAlg } },
  });
  at.scope = '';
  if (userinfoToken.jkt) at.setThumbprint('jkt', userinfoToken.jkt); // bound to the key of the refresh's proof
  const value = await at.save();
  await userinfoToken.destroy(); // nobody has its value
  Object.assign(ctx.body, {
    access_token: value,
    expires_in: at.expiration,
    scope: at.scope,
    token_type: at.tokenType,
  });
}

// ---------------------------------------------------------------------------
// Provider pages we do not otherwise need are replaced by small self-contained
// HTML (oidc-provider's defaults load web fonts, which a test machine cannot fetch).

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body><h1>${esc(title)}</h1>
${body}
</body></html>`;
}

const HOUR = 60 * 60;

const configuration = {
  clients,
  jwks,
  findAccount,
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'profile', 'email', 'offline_access', 'urn:logto:scope:organizations'],
  claims: {
    openid: ['sub'],
    profile: ['name'],
    email: ['email', 'email_verified'],
    [ORGANIZATIONS_SCOPE]: ['organizations'],
  },
  // Put the granted profile/email claims in the ID token too, as most IdPs do
  // (oidc-provider's default keeps them for userinfo when an access token is issued).
  conformIdTokenClaims: false,
  clientDefaults: { id_token_signed_response_alg: idTokenAlg },
  responseTypes: ['code'],
  enabledJWA: { idTokenSigningAlgValues: ID_TOKEN_ALGS, dPoPSigningAlgValues: DPOP_ALGS },
  pkce: { required: () => true }, // oidc-provider v9 only implements S256
  // Tokens die exactly at their ttl (oidc-provider otherwise accepts them 15 s longer).
  clockTolerance: 0,
  rotateRefreshToken: true, // reuse of a rotated (consumed) refresh token revokes the grant
  // The organization_id claim of the access tokens an organization refresh issues.
  // With --access-token-padding, a padding claim on JWT access tokens too.
  extraTokenClaims: async (ctx, token) => {
    if (token.kind !== 'AccessToken') return undefined;
    const organizationId = ctx && refreshOrganization.get(ctx);
    const extra = {
      ...(organizationId ? { organization_id: organizationId } : undefined),
      ...(accessTokenPadding && token.resourceServer?.accessTokenFormat === 'jwt' ? { padding: 'x'.repeat(accessTokenPadding) } : undefined),
    };
    return Object.keys(extra).length ? extra : undefined;
  },
  ttl: {
    AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL || accessTokenTTL,
    RefreshToken: () => refreshTokenTTL,
    AuthorizationCode: () => 60,
    DeviceCode: () => 10 * 60,
    IdToken: () => idTokenTTL,
    Interaction: () => HOUR,
    Session: () => 14 * 24 * HOUR,
    Grant: () => Math.max(14 * 24 * HOUR, refreshTokenTTL),
  },
  interactions: {
    url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}`,
  },
  features: {
    devInteractions: { enabled: false },
    // RFC 9449, see the top of this file. A nonce secret only with
    // --dpop-nonce: given one, oidc-provider sends a DPoP-Nonce header with
    // every answer to a proof that lacks its latest nonce, required or not.
    dPoP: {
      enabled: dpopEnabled,
      ...(dpopNonce ? { nonceSecret: randomBytes(32), requireNonce: () => true } : undefined),
    },
    // RFC 9126, not required: sesame pushes when discovery advertises it.
    pushedAuthorizationRequests: { enabled: !args['no-par'], requirePushedAuthorizationRequests: false },
    revocation: { enabled: true },
    // The default policy lets a public client introspect its own tokens only.
    introspection: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page('Sign out', `${form}
<button type="submit" id="logout" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" id="stay" form="op.logoutForm">No, stay signed in</button>`);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Signed out', '<p id="signed-out">You are signed out.</p>');
      },
    },
    deviceFlow: {
      enabled: true,
      userCodeInputSource: async (ctx, form, _out, err) => {
        const msg = err ? '<p id="error">The code is invalid or the request failed.</p>' : '<p>Enter the code shown on your device.</p>';
        ctx.body = page('Device sign-in', `${msg}${form}<button type="submit" id="continue" form="op.deviceInputForm">Continue</button>`);
      },
      userCodeConfirmSource: async (ctx, form, client, _deviceInfo, userCode) => {
        ctx.body = page('Confirm device', `<p>${esc(client.clientId)} shows the code <code id="user-code">${esc(userCode)}</code></p>${form}
<button type="submit" id="confirm" form="op.deviceConfirmForm">Continue</button>
<button type="submit" id="abort" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>`);
      },
      successSource: async (ctx) => {
        ctx.body = page('Device signed in', '<p id="device-done">You can close this page and return to your device.</p>');
      },
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined,
      useGrantedResource: async () => false,
      getResourceServerInfo,
    },
  },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Error', Object.entries(out).map(([k, v]) => `<p><b>${esc(k)}</b>: <span id="${esc(k)}">${esc(v)}</span></p>`).join('\n'));
  },
};

// ---------------------------------------------------------------------------
// Provider, bound to 127.0.0.1 only. The port is only known once we listen, and
// the issuer must contain it, so the provider is created in the listen callback.

let provider;
let providerCallback;
const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error('idp: request failed', err);
    if (!res.headersSent) {
      res.statusCode = 500;
      res.end('internal error');
    }
  });
});

server.on('error', (err) => fail(`cannot listen on 127.0.0.1:${port}: ${err.message}`));
server.listen(port, '127.0.0.1', () => {
  const actualPort = server.address().port;
  const issuer = `http://127.0.0.1:${actualPort}${mountPath}`;
  provider = new LogtoProvider(issuer, configuration);
  if (!organizationGrantInstalled) fail('oidc-provider no longer registers its refresh_token grant through registerGrantType');
  // Koa error reporting of unexpected errors goes to stderr.
  provider.on('error', (err) => console.error('idp: provider error', err));
  subscribeEvents(provider);
  subscribeSecrets(provider);
  provider.use(recordIntrospectionAndRevocation);
  provider.use(recordExchangedSecrets);
  providerCallback = provider.callback(); // after use(): Koa composes the middleware here

  process.stdout.write(`${JSON.stringify({
    issuer,
    port: actualPort,
    confidential_client_id: 'sesame-confidential',
    confidential_client_secret: confidentialSecret,
    api: `http://127.0.0.1:${actualPort}${API_PATH}`,
    dpop: dpopEnabled,
    dpop_nonce: dpopNonce,
  })}\n`);
  console.error(`idp: listening, issuer ${issuer}, id_token alg ${idTokenAlg}`);
});

function shutdown(signal) {
  console.error(`idp: ${signal}, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

// Everything under <mount>/interaction/ is ours, everything else under the mount
// path goes to oidc-provider with the mount prefix stripped. req.originalUrl keeps
// the full path, which oidc-provider uses to build its own URLs (as under Express).
async function handle(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname === API_PATH || url.pathname.startsWith(`${API_PATH}/`)) {
    await api(req, res, url);
    return;
  }
  // RFC 8414 puts the metadata of an issuer with a path at
  // /.well-known/oauth-authorization-server/<path>; serve that form too.
  if (mountPath && url.pathname === `/.well-known/oauth-authorization-server${mountPath}`) {
    req.url = `/.well-known/oauth-authorization-server${url.search}`;
    req.originalUrl = `${mountPath}${req.url}`; // so the endpoints it lists carry the mount path
    providerCallback(req, res);
    return;
  }
  if (mountPath && url.pathname !== mountPath && !url.pathname.startsWith(`${mountPath}/`)) {
    res.statusCode = 404;
    res.end('not found');
    return;
  }
  const inner = url.pathname.slice(mountPath.length) || '/';
  const m = inner.match(/^\/interaction\/([^/]+)(?:\/(login|abort|allow|deny))?$/);
  if (m) {
    await interaction(req, res, m[1], m[2]);
    return;
  }
  req.originalUrl = req.url;
  req.url = req.url.slice(mountPath.length) || '/';
  providerCallback(req, res);
}

// ---------------------------------------------------------------------------
// The API, a protected resource of this provider's tokens (see the top of this
// file). It checks tokens and DPoP proofs itself, as a resource server would:
// nothing of oidc-provider's userinfo checks is used.

const API_PROOF_WINDOW = 60; // seconds a proof's iat may be off
const API_NONCE_TTL = 5 * 60; // seconds a nonce of the API is accepted
const API_JTI_TTL = 5 * 60; // seconds a proof id is remembered, well beyond the iat window
const API_MAX_BODY = 1 << 20;

const apiCounts = new Map(); // path -> requests so far
const apiNonces = new Map(); // nonce -> when it expires (epoch seconds)
const apiSeenJtis = new Map(); // proof jti -> when it may be forgotten
const apiRejectedTokens = new Set(); // sha256 of the tokens /api/reject-once refused
const apiRejectedGrants = new Set(); // the grants whose first token it refused

const epochNow = () => Math.floor(Date.now() / 1000);
const sha256 = (value) => createHash('sha256').update(value).digest('base64url');

// JWT access tokens are not stored by oidc-provider: they are verified
// with the public half of its signing keys.
const publicJWK = ({ d, p, q, dp, dq, qi, ...pub }) => pub;
const providerKeys = jose.createLocalJWKSet({ keys: jwks.keys.map(publicJWK) });

function prune(map) {
  const now = epochNow();
  for (const [key, expires] of map) if (expires <= now) map.delete(key);
}

function newNonce() {
  prune(apiNonces);
  const nonce = randomBytes(24).toString('base64url');
  apiNonces.set(nonce, epochNow() + API_NONCE_TTL);
  return nonce;
}

// A refusal: status, the scheme of its challenge, an RFC 6750 / RFC 9449
// error code and description, and headers to add.
class APIError extends Error {
  constructor(status, scheme, error, description, headers = {}) {
    super(description);
    Object.assign(this, { status, scheme, error, headers });
  }
}

function challenge(scheme, params = {}) {
  const all = scheme === 'DPoP' ? { ...params, algs: DPOP_ALGS.join(' ') } : params;
  const fields = Object.entries(all).filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}="${String(v).replace(/[\\"]/g, '\\$&')}"`);
  return fields.length ? `${scheme} ${fields.join(', ')}` : scheme;
}

const invalidToken = (scheme, description) => new APIError(401, scheme, 'invalid_token', description);
const invalidProof = (description) => new APIError(401, 'DPoP', 'invalid_dpop_proof', description);

// lookUpToken finds what an access token stands for, or undefined for one
// that is unknown, expired or revoked. grant is what /api/reject-once counts
// by: the grant of an opaque token; client, user and audience of a JWT, which
// does not name its grant.
async function lookUpToken(value) {
  if (value.split('.').length === 3) {
    try {
      const { payload } = await jose.jwtVerify(value, providerKeys, {
        issuer: provider.issuer, typ: 'at+jwt', algorithms: ID_TOKEN_ALGS,
      });
      return {
        sub: payload.sub,
        clientId: payload.client_id,
        scope: payload.scope ?? '',
        aud: payload.aud,
        jkt: payload.cnf?.jkt,
        grant: `jwt ${payload.client_id} ${payload.sub} ${[payload.aud].flat().join(' ')}`,
      };
    } catch {
      return undefined;
    }
  }
  const token = await provider.AccessToken.find(value);
  if (!token || token.isExpired) return undefined;
  const grant = await provider.Grant.find(token.grantId, { ignoreExpiration: true });
  if (!grant || grant.isExpired || grant.clientId !== token.clientId || grant.accountId !== token.accountId) return undefined;
  return {
    sub: token.accountId, clientId: token.clientId, scope: token.scope ?? '', jkt: token.jkt, grant: token.grantId,
  };
}

// checkProof validates the DPoP proof of a request made with a token bound
// to the key jkt, as RFC 9449 section 4.3 says, with section 7.1's ath.
async function checkProof(req, url, token, jkt) {
  const proofs = req.headersDistinct.dpop ?? [];
  if (proofs.length !== 1) throw invalidProof(proofs.length ? 'more than one DPoP header' : 'DPoP proof missing');
  let payload;
  let protectedHeader;
  try {
    ({ payload, protectedHeader } = await jose.jwtVerify(proofs[0], jose.EmbeddedJWK, { typ: 'dpop+jwt', algorithms: DPOP_ALGS }));
  } catch (err) {
    throw invalidProof(`DPoP proof invalid: ${err.message}`);
  }
  if (await jose.calculateJwkThumbprint(protectedHeader.jwk) !== jkt) throw invalidProof('DPoP proof key is not the one the access token is bound to');
  if (typeof payload.jti !== 'string' || !payload.jti) throw invalidProof('DPoP proof jti missing');
  if (payload.htm !== req.method) throw invalidProof('DPoP proof htm mismatch');
  const htu = typeof payload.htu === 'string' ? URL.parse(payload.htu) : null;
  if (htu) htu.search = htu.hash = '';
  if (htu?.href !== `http://127.0.0.1:${server.address().port}${url.pathname}`) throw invalidProof('DPoP proof htu mismatch');
  if (typeof payload.iat !== 'number' || Math.abs(epochNow() - payload.iat) > API_PROOF_WINDOW) throw invalidProof('DPoP proof iat missing or not recent enough');
  if (payload.ath !== sha256(token)) throw invalidProof('DPoP proof ath mismatch');
  if (dpopNonce) {
    prune(apiNonces);
    if (typeof payload.nonce !== 'string' || !apiNonces.has(payload.nonce)) {
      throw new APIError(401, 'DPoP', 'use_dpop_nonce', payload.nonce === undefined ? 'nonce is required in the DPoP proof' : 'invalid nonce in DPoP proof', { 'DPoP-Nonce': newNonce() });
    }
  }
  // Last, as oidc-provider does: a proof refused for its nonce may be sent again.
  prune(apiSeenJtis);
  if (apiSeenJtis.has(payload.jti)) throw invalidProof('DPoP proof replayed: its jti was used before');
  apiSeenJtis.set(payload.jti, epochNow() + API_JTI_TTL);
}

// authenticate checks the Authorization header (and the proof) of a request.
async function authenticate(req, url, seen) {
  const header = req.headers.authorization;
  if (!header) {
    throw Object.assign(new APIError(401, 'Bearer', undefined, 'no access token'), {
      challenges: dpopEnabled ? [challenge('Bearer'), challenge('DPoP')] : [challenge('Bearer')],
    });
  }
  const m = /^([A-Za-z]+) +([A-Za-z0-9\-._~+/]+=*)$/.exec(header);
  const scheme = { bearer: 'Bearer', dpop: 'DPoP' }[m?.[1].toLowerCase()];
  if (!scheme || (scheme === 'DPoP' && !dpopEnabled)) {
    throw new APIError(400, 'Bearer', 'invalid_request', scheme ? 'the DPoP scheme is not supported' : 'Authorization must be Bearer or DPoP and a token');
  }
  const token = m[2];
  seen.scheme = scheme;
  const info = await lookUpToken(token);
  recordSecret('access token', token, { client_id: info?.clientId, source: 'received at api' });
  if (!info) throw invalidToken(scheme, 'access token unknown, expired or revoked');
  seen.tokenType = info.jkt ? 'DPoP' : 'Bearer';
  seen.clientId = info.clientId;
  if (info.jkt) {
    if (scheme !== 'DPoP') throw invalidToken('DPoP', 'DPoP-bound access token sent with the Bearer scheme');
    await checkProof(req, url, token, info.jkt);
  } else if (scheme === 'DPoP') {
    throw invalidToken('Bearer', 'access token is not DPoP-bound');
  }
  return { ...info, token, tokenType: seen.tokenType };
}

const API_ROUTES = {
  '/me': {
    methods: ['GET'],
    handle: (_req, _url, auth) => ({
      body: {
        sub: auth.sub, client_id: auth.clientId, token_type: auth.tokenType, scope: auth.scope, aud: auth.aud,
      },
    }),
  },
  '/echo': {
    handle: (req, url, _auth, text) => {
      const headers = {};
      for (const [name, value] of Object.entries(req.headers)) {
        headers[name] = name === 'authorization' || name === 'dpop' ? '[present]' : [value].flat().join(', ');
      }
      const query = {};
      for (const [name, value] of url.searchParams) (query[name] ??= []).push(value);
      return {
        body: {
          method: req.method, path: url.pathname, headers, query, body: text,
        },
      };
    },
  },
  '/items': {
    methods: ['GET'],
    handle: (_req, url) => {
      const param = url.searchParams.get('page') ?? '1';
      if (!/^[1-9][0-9]{0,5}$/.test(param)) {
        return { status: 400, body: { error: 'invalid_request', error_description: 'page must be a positive integer' } };
      }
      const page = Number(param);
      const next = page < 3 ? { Link: `<http://127.0.0.1:${server.address().port}${API_PATH}/items?page=${page + 1}>; rel="next"` } : {};
      return { body: page <= 3 ? [{ id: 2 * page - 1 }, { id: 2 * page }] : [], headers: next };
    },
  },
  '/reject-once': {
    handle: (req, _url, auth, text) => {
      const hash = sha256(auth.token);
      if (!apiRejectedTokens.has(hash) && !apiRejectedGrants.has(auth.grant)) {
        apiRejectedGrants.add(auth.grant);
        apiRejectedTokens.add(hash);
      }
      if (apiRejectedTokens.has(hash)) throw invalidToken(auth.tokenType, 'access token refused: renew it and try again');
      return {
        body: {
          sub: auth.sub, client_id: auth.clientId, token_type: auth.tokenType, method: req.method, body: text,
        },
      };
    },
  },
};

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size <= API_MAX_BODY) chunks.push(chunk);
  }
  return size <= API_MAX_BODY ? Buffer.concat(chunks).toString('utf8') : undefined;
}

async function api(req, res, url) {
  const path = url.pathname;
  const count = (apiCounts.get(path) ?? 0) + 1;
  apiCounts.set(path, count);
  // Read all of the body first, so that an early refusal leaves the connection usable.
  const text = await readBody(req);
  const seen = {};
  let status = 200;
  let body;
  let headers = {};
  try {
    const route = API_ROUTES[path.slice(API_PATH.length)];
    if (!route) {
      throw Object.assign(new APIError(404, undefined, 'not_found', `no ${path} here`), { challenges: [] });
    }
    if (route.methods && !route.methods.includes(req.method)) {
      throw Object.assign(new APIError(405, undefined, 'method_not_allowed', `${path} takes ${route.methods.join(', ')}`, { Allow: route.methods.join(', ') }), { challenges: [] });
    }
    if (text === undefined) throw Object.assign(new APIError(413, undefined, 'invalid_request', 'body too large'), { challenges: [] });
    const auth = await authenticate(req, url, seen);
    ({ status = 200, body, headers = {} } = await route.handle(req, url, auth, text));
  } catch (err) {
    if (!(err instanceof APIError)) throw err;
    status = err.status;
    body = { error: err.error ?? 'invalid_token', error_description: err.message };
    seen.error = err.error;
    const challenges = err.challenges ?? [challenge(err.scheme, { error: err.error, error_description: err.message })];
    headers = { ...err.headers, ...(challenges.length ? { 'WWW-Authenticate': challenges } : undefined) };
    if (!err.error) delete body.error; // no token at all: RFC 6750 section 3.1 has no error code for it
  }
  record('api.request', {
    method: req.method,
    path,
    status,
    count,
    token: Boolean(req.headers.authorization),
    scheme: seen.scheme,
    token_type: seen.tokenType,
    client_id: seen.clientId,
    error: seen.error,
  });
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body));
}

// ---------------------------------------------------------------------------
// Interaction pages: plain HTML forms, no JavaScript.

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(html);
}

function loginPage(details, error) {
  const base = `${mountPath}/interaction/${details.uid}`;
  return page('Sign in', `<p>Sign in to continue to <b id="client">${esc(details.params.client_id)}</b>.</p>
${error ? `<p id="error">${esc(error)}</p>` : ''}
<form method="post" action="${base}/login" autocomplete="off">
  <label>Username <input name="login" value="${esc(details.params.login_hint || '')}" autofocus></label>
  <label>Password <input name="password" type="password"></label>
  <button type="submit" id="signin">Sign in</button>
  <button type="submit" id="cancel" formaction="${base}/abort">Cancel</button>
</form>`);
}

function consentPage(details) {
  const base = `${mountPath}/interaction/${details.uid}`;
  const scopes = (details.params.scope || '').split(' ').filter(Boolean);
  const resources = [details.params.resource || []].flat();
  return page('Authorize', `<p><b id="client">${esc(details.params.client_id)}</b> asks for access as <b id="account">${esc(details.session?.accountId)}</b>.</p>
<ul id="scopes">${scopes.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>
${resources.length ? `<p>Resources:</p><ul id="resources">${resources.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}
<form method="post" action="${base}/allow"><button type="submit" id="allow">Allow</button></form>
<form method="post" action="${base}/deny"><button type="submit" id="deny">Deny</button></form>`);
}

async function interaction(req, res, uid, action) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    // Missing or expired interaction cookie, e.g. a page reloaded after it finished.
    send(res, 400, page('Error', `<p id="error">${esc(err.message)}</p>`));
    return;
  }
  if (details.uid !== uid) {
    send(res, 400, page('Error', '<p id="error">This sign-in page is stale.</p>'));
    return;
  }
  const prompt = details.prompt.name;

  if (req.method === 'GET' && !action) {
    send(res, 200, prompt === 'login' ? loginPage(details) : consentPage(details));
    return;
  }
  if (req.method !== 'POST' || !action) {
    send(res, 405, page('Error', '<p id="error">Method not allowed.</p>'));
    return;
  }

  if (action === 'abort') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'The user cancelled the sign-in',
    }, { mergeWithLastSubmission: false });
    return;
  }

  if (action === 'login' && prompt === 'login') {
    const form = await readForm(req);
    const login = form.get('login') || '';
    const user = Object.hasOwn(USERS, login) ? USERS[login] : undefined;
    if (!user || user.password !== form.get('password')) {
      send(res, 200, loginPage(details, 'Invalid username or password.'));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    return;
  }

  if (action === 'deny' && prompt === 'consent') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'The user denied the request',
    }, { mergeWithLastSubmission: false });
    return;
  }

  if (action === 'allow' && prompt === 'consent') {
    // As in oidc-provider's example: grant whatever the consent prompt found missing.
    const { prompt: { details: missing }, params, session: { accountId } } = details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes || {})) {
      grant.addResourceScope(resource, scopes.join(' '));
    }
    const grantId = await grant.save();
    const consent = details.grantId ? {} : { grantId };
    await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
    return;
  }

  send(res, 400, page('Error', `<p id="error">Unexpected ${esc(action)} during the ${esc(prompt)} step.</p>`));
}

// ---------------------------------------------------------------------------
// Events. Names are oidc-provider's own where it emits one; it has no success
// events for revocation and introspection, so those are recorded by middleware.

function subscribeEvents(p) {
  const client = (ctx) => ctx.oidc?.client?.clientId ?? ctx.oidc?.params?.client_id;

  p.on('authorization.success', (ctx) => record('authorization.success', { client_id: client(ctx) }));
  p.on('pushed_authorization_request.success', (ctx) => record('pushed_authorization_request.success', { client_id: client(ctx) }));
  p.on('pushed_authorization_request.error', (ctx, err) => record('pushed_authorization_request.error', { client_id: client(ctx), ...errorFields(err) }));
  p.on('authorization.error', (ctx, err) => record('authorization.error', { client_id: client(ctx), ...errorFields(err) }));
  p.on('grant.success', (ctx) => record('grant.success', {
    grant_type: ctx.oidc.params.grant_type,
    client_id: client(ctx),
    grant_id: ctx.oidc.entities.Grant?.jti,
    scope: ctx.body?.scope,
    resource: ctx.oidc.entities.AccessToken?.resourceServer?.identifier(),
    organization_id: refreshOrganization.get(ctx),
    token_type: ctx.body?.token_type,
    refresh_token_issued: Boolean(ctx.body?.refresh_token),
    id_token_issued: Boolean(ctx.body?.id_token),
  }));
  p.on('grant.error', (ctx, err) => record('grant.error', {
    grant_type: ctx.oidc?.params?.grant_type,
    client_id: client(ctx),
    organization_id: ctx.oidc?.params?.organization_id,
    ...errorFields(err),
  }));
  p.on('grant.revoked', (ctx, grantId) => record('grant.revoked', { grant_id: grantId, client_id: client(ctx), route: ctx.oidc?.route }));
  p.on('revocation.error', (ctx, err) => record('revocation.error', { client_id: client(ctx), ...errorFields(err) }));
  p.on('introspection.error', (ctx, err) => record('introspection.error', { client_id: client(ctx), ...errorFields(err) }));
  p.on('userinfo.error', (ctx, err) => record('userinfo.error', errorFields(err)));
  p.on('end_session.success', (ctx) => record('end_session.success', { client_id: client(ctx) }));
  p.on('end_session.error', (ctx, err) => record('end_session.error', { client_id: client(ctx), ...errorFields(err) }));
  p.on('device_authorization.success', (ctx) => record('device_authorization.success', { client_id: client(ctx) }));
  p.on('server_error', (ctx, err) => {
    console.error('idp: server_error', err);
    record('server_error', { route: ctx.oidc?.route, message: err.message });
  });
}

async function recordIntrospectionAndRevocation(ctx, next) {
  await next();
  const route = ctx._matchedRoute && ctx.oidc?.route;
  if (ctx.status !== 200 || (route !== 'revocation' && route !== 'introspection')) return;
  const { entities } = ctx.oidc;
  const token = entities.AccessToken || entities.RefreshToken || entities.ClientCredentials;
  if (route === 'revocation') {
    // Revocation answers 200 even for unknown tokens; token_type is absent then.
    record('revocation.success', { client_id: ctx.oidc.client?.clientId, token_type: token?.kind, grant_id: token?.grantId });
  } else {
    record('introspection.success', { client_id: ctx.oidc.client?.clientId, active: ctx.body?.active === true, token_type: token?.kind });
  }
}

// ---------------------------------------------------------------------------
// The secrets file (--secrets). Codes, device codes and refresh tokens are
// recorded when oidc-provider saves them (their value is the opaque token's
// id), so spent and never-used ones are there too; whatever crosses the token, device,
// revocation and introspection endpoints is recorded from the request and
// the response, which covers JWT access tokens and ID tokens, and values a
// client sent that the provider never issued (a garbled code).

function subscribeSecrets(p) {
  for (const [event, kind] of [
    ['authorization_code.saved', 'authorization code'],
    ['refresh_token.saved', 'refresh token'],
    ['device_code.saved', 'device code'],
  ]) {
    p.on(event, (token) => recordSecret(kind, token.jti, { client_id: token.clientId, source: 'issued' }));
  }
}

const RECEIVED = {
  code: 'authorization code',
  code_verifier: 'code verifier',
  refresh_token: 'refresh token',
  device_code: 'device code',
  token: 'token',
  client_secret: 'client secret',
};
const ANSWERED = {
  access_token: 'access token',
  refresh_token: 'refresh token',
  id_token: 'ID token',
  device_code: 'device code',
};

async function recordExchangedSecrets(ctx, next) {
  try {
    await next();
  } finally {
    const route = ctx.oidc?.route;
    if (['token', 'device_authorization', 'revocation', 'introspection'].includes(route)) {
      const clientId = ctx.oidc.client?.clientId ?? ctx.oidc.body?.client_id;
      for (const [param, kind] of Object.entries(RECEIVED)) {
        recordSecret(kind, ctx.oidc.body?.[param], { client_id: clientId, source: `received at ${route}` });
      }
      if (ctx.body && typeof ctx.body === 'object') {
        for (const [field, kind] of Object.entries(ANSWERED)) {
          recordSecret(kind, ctx.body[field], { client_id: clientId, source: `answered at ${route}` });
        }
      }
    }
  }
}

#!/usr/bin/env node
// Headless "user" for sesame's end-to-end tests: opens a URL in Debian's chromium
// (driven by playwright-core) and goes through the test IdP's pages.
//
// sesame's one-time start URL (http://127.0.0.1:PORT/start/..., which redirects
// once to the authorization URL) is followed through the login and consent pages
// until the IdP sends the browser to the CLI's loopback listener at
// http://127.0.0.1:PORT/callback.
//
// The IdP's device verification page (RFC 8628: <issuer>/device, with
// ?user_code=XXXX-XXXX when it is the verification_uri_complete) is followed
// through the user code and confirmation pages, login and consent, to the page
// that says the device is signed in (or, after a denial, that it is not).
//
//   node e2e/browser/signin.js URL
//
// Environment:
//   SESAME_E2E_BROWSER_ACTION  approve (default) | deny | cancel | wrong-state | bad-code | none
//                              | device | device-deny
//                              A device verification URL is driven as device (approve, the
//                              default) or device-deny (deny); device and device-deny drive any
//                              URL as a device verification page.
//   SESAME_E2E_USER            login name (default alice)
//   SESAME_E2E_PASSWORD        password (default wonderland)
//   SESAME_E2E_USER_CODE       the user code to type when the device page asks for one and
//                              the URL carries none (plain verification_uri)
//   CHROMIUM_PATH              browser binary (default /usr/bin/chromium)
//
// Output, JSON lines on stdout:
//   {"event":"open","url":...}
//   {"event":"done","action":...,"final_url":...,"status":...,"text":...}   exit 0
//   {"event":"error","message":...}                                          exit 1

import { randomBytes } from 'node:crypto';

import { chromium } from 'playwright-core';

const ACTIONS = ['approve', 'deny', 'cancel', 'wrong-state', 'bad-code', 'none', 'device', 'device-deny'];
const DEVICE_ACTIONS = { approve: 'device', deny: 'device-deny', device: 'device', 'device-deny': 'device-deny' };
const TIMEOUT_MS = 60_000;
const GARBAGE_CODE = 'garbage-code-from-sesame-e2e';

const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

let browser;
async function failAndExit(message) {
  emit({ event: 'error', message });
  await browser?.close().catch(() => {});
  process.exit(1);
}

// The CLI's loopback listener: any loopback host, path /callback.
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
function isCallback(url) {
  const u = URL.parse(url);
  return Boolean(u && u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname) && u.pathname === '/callback');
}

// oidc-provider serves the device verification page (its code_verification route)
// at <issuer>/device; an authorization URL never ends that way.
function isDeviceVerification(url) {
  const u = URL.parse(url);
  return Boolean(u && /\/device\/?$/.test(u.pathname));
}

// The IdP compares user codes case-insensitively and ignores anything but letters
// and digits, so "bcdf-ghjk" and "BCDFGHJK" are the same code.
const normalizeUserCode = (code) => code.toUpperCase().replace(/[^A-Z0-9]/g, '');

async function main() {
  const [rawUrl] = process.argv.slice(2);
  const action = process.env.SESAME_E2E_BROWSER_ACTION || 'approve';
  const user = process.env.SESAME_E2E_USER || 'alice';
  const password = process.env.SESAME_E2E_PASSWORD || 'wonderland';

  if (!rawUrl || !URL.parse(rawUrl)) return failAndExit(`usage: signin.js URL (got ${JSON.stringify(rawUrl)})`);
  if (!ACTIONS.includes(action)) return failAndExit(`unknown SESAME_E2E_BROWSER_ACTION ${action}`);

  emit({ event: 'open', url: rawUrl });
  if (action === 'none') return undefined;

  const timer = setTimeout(() => failAndExit(`timed out after ${TIMEOUT_MS / 1000}s`), TIMEOUT_MS);

  // The tests set one action for a whole sesame run, which opens either kind of
  // URL, so approve and deny carry over to the device verification page.
  const device = action.startsWith('device') || isDeviceVerification(rawUrl);
  if (device) {
    const deviceAction = DEVICE_ACTIONS[action];
    if (!deviceAction) return failAndExit(`SESAME_E2E_BROWSER_ACTION ${action} does not apply to the device verification page ${rawUrl}`);
    const page = await launch();
    await deviceSignIn(page, rawUrl, deviceAction, user, password);
    clearTimeout(timer);
    await browser.close();
    return undefined;
  }

  const url = rawUrl;
  const page = await launch();

  // The IdP's redirect to the CLI's callback is rewritten on the way: a code the
  // IdP never issued, or a state the CLI never sent (as a forged or replayed
  // response would carry). The authorization request itself cannot be edited:
  // sesame may have pushed it (RFC 9126), and the URL then carries a request_uri.
  if (action === 'bad-code') await rewriteCallback(page, 'code', GARBAGE_CODE);
  if (action === 'wrong-state') await rewriteCallback(page, 'state', randomBytes(16).toString('base64url'));

  // The final page: the listener's (non-redirect) answer to a top-level navigation to /callback.
  const callbackResponse = page.waitForResponse((r) => isCallback(r.url())
    && r.request().isNavigationRequest()
    && r.request().frame() === page.mainFrame()
    && (r.status() < 300 || r.status() >= 400), { timeout: TIMEOUT_MS });
  callbackResponse.catch(() => {}); // awaited below; the overall timer covers a hang
  page.on('requestfailed', (r) => {
    if (isCallback(r.url()) && r.isNavigationRequest()) {
      failAndExit(`request to the callback failed: ${r.failure()?.errorText}`);
    }
  });

  await page.goto(url, { waitUntil: 'load' });

  // Each IdP page is the login form, the consent form or the end; a remembered
  // session or grant just means a page is skipped.
  let sawLogin = false;
  while (!isCallback(page.url())) {
    if (await page.locator('#signin').count()) {
      if (action === 'cancel') {
        await clickAndWait(page, '#cancel');
        continue;
      }
      if (sawLogin && (await page.locator('#error').count())) {
        return failAndExit(`login rejected for ${user}: ${await page.locator('#error').innerText()}`);
      }
      sawLogin = true;
      await page.fill('input[name="login"]', user);
      await page.fill('input[name="password"]', password);
      await clickAndWait(page, '#signin');
    } else if (await page.locator('#allow').count()) {
      await clickAndWait(page, action === 'deny' ? '#deny' : '#allow');
    } else {
      // e.g. the IdP's error page for an invalid request: report it instead of waiting.
      const text = await page.evaluate(() => document.body?.innerText ?? '');
      return failAndExit(`unexpected page ${page.url()}: ${text.trim()}`);
    }
  }

  const response = await callbackResponse;
  await page.waitForLoadState('load');
  emit({
    event: 'done',
    action,
    final_url: page.url(),
    status: response.status(),
    text: await page.evaluate(() => document.body?.innerText ?? ''),
  });
  clearTimeout(timer);
  await browser.close();
  return undefined;
}

async function launch() {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    // playwright gives every launch a fresh temporary profile and removes it on close.
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  return page;
}

// The device side of RFC 8628 at oidc-provider, whose pages the test IdP replaces:
//   user code input  #continue (with #error after a bad code, an abort or a denial)
//   confirmation     #confirm / #abort, showing the code as #user-code
//   login            #signin, consent  #allow / #deny (the IdP's interaction pages)
//   success          #device-done
// verification_uri_complete answers with a self-submitting form that posts the
// code for the user, so the input page is skipped; and some pages come back at the
// same URL (/device answers its own form), so progress is tracked by documents
// loaded, not by URL changes.
async function deviceSignIn(page, url, action, user, password) {
  const urlCode = new URL(url).searchParams.get('user_code');
  const userCode = urlCode || process.env.SESAME_E2E_USER_CODE || '';
  const documents = trackDocuments(page);
  let status;
  page.on('response', (r) => {
    const req = r.request();
    if (req.isNavigationRequest() && req.frame() === page.mainFrame() && (r.status() < 300 || r.status() >= 400)) {
      status = r.status();
    }
  });

  await page.goto(url, { waitUntil: 'commit' });

  let sawLogin = false;
  let submittedCode = false;
  let denied = false;
  for (;;) {
    const kind = await settle(page, documents);
    if (kind === 'done') {
      if (action === 'device-deny') return failAndExit(`the device was signed in without a consent page to deny: ${page.url()}`);
      break;
    }
    if (kind === 'input') {
      if (await page.locator('#error').count()) {
        // The IdP's input page, shown again with an error, is also where a denied
        // or aborted sign-in ends.
        if (denied) break;
        return failAndExit(`user code ${JSON.stringify(userCode)} rejected at ${page.url()}: ${(await bodyText(page)).trim()}`);
      }
      if (submittedCode) return failAndExit(`the IdP asked for the user code again at ${page.url()}`);
      if (!userCode) return failAndExit(`${page.url()} asks for the user code: the URL has no user_code, so set SESAME_E2E_USER_CODE`);
      submittedCode = true;
      await page.fill('input[name="user_code"]', userCode);
      await clickAndSettle(page, documents, '#continue');
    } else if (kind === 'confirm') {
      // What a careful user does: continue only if the page shows the device's code.
      const shown = await page.locator('#user-code').innerText();
      if (userCode && normalizeUserCode(shown) !== normalizeUserCode(userCode)) {
        return failAndExit(`the confirmation page shows the code ${shown}, expected ${userCode}`);
      }
      submittedCode = true;
      await clickAndSettle(page, documents, '#confirm');
    } else if (kind === 'login') {
      if (sawLogin && (await page.locator('#error').count())) {
        return failAndExit(`login rejected for ${user}: ${await page.locator('#error').innerText()}`);
      }
      sawLogin = true;
      await page.fill('input[name="login"]', user);
      await page.fill('input[name="password"]', password);
      await clickAndSettle(page, documents, '#signin');
    } else if (kind === 'consent') {
      denied = action === 'device-deny';
      await clickAndSettle(page, documents, denied ? '#deny' : '#allow');
    } else {
      // e.g. the IdP's error page for an unknown route or an invalid request.
      return failAndExit(`unexpected page ${page.url()}: ${(await bodyText(page)).trim()}`);
    }
  }

  emit({
    event: 'done',
    action,
    final_url: page.url(),
    status,
    text: await bodyText(page),
  });
  return undefined;
}

const DEVICE_PAGES = [
  ['done', '#device-done'],
  ['login', '#signin'],
  ['consent', '#allow'],
  ['confirm', '#confirm'],
  ['input', '#continue'],
];

// Count the documents the main frame commits, so a wait can tell the page that
// answers a form from the page the form was on.
function trackDocuments(page) {
  const documents = { count: 0, waiters: new Set() };
  page.on('framenavigated', (frame) => {
    if (frame !== page.mainFrame()) return;
    documents.count += 1;
    for (const wake of documents.waiters) wake();
  });
  return documents;
}

// Resolves true once a document after the first n has committed, false after ms.
function documentAfter(documents, n, ms) {
  if (documents.count > n) return Promise.resolve(true);
  return new Promise((resolve) => {
    const wake = () => {
      if (documents.count <= n) return;
      documents.waiters.delete(wake);
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      documents.waiters.delete(wake);
      resolve(false);
    }, ms);
    documents.waiters.add(wake);
  });
}

// Wait for the current document to load and say which device page it is. A page
// that is none of them and moves on by itself (oidc-provider's self-submitting
// form) is waited out; one that stays put is "unknown".
async function settle(page, documents) {
  for (;;) {
    const n = documents.count;
    try {
      await page.waitForLoadState('load');
      for (const [kind, selector] of DEVICE_PAGES) {
        if (await page.locator(selector).count()) return kind;
      }
    } catch (err) {
      // The document went away while being looked at: look at the next one.
      if (documents.count === n) throw err;
      continue;
    }
    if (!(await documentAfter(documents, n, 3000))) return 'unknown';
  }
}

// Submit a device-flow form and wait for the page that answers it, which may
// have the same URL.
async function clickAndSettle(page, documents, selector) {
  const n = documents.count;
  await page.click(selector);
  if (!(await documentAfter(documents, n, TIMEOUT_MS))) throw new Error(`no page answered ${selector}`);
}

const bodyText = (page) => page.evaluate(() => document.body?.innerText ?? '');

// Swap one parameter (the code, the state) in the IdP's redirect to the listener for
// value: the hop is answered with a 303 to the same URL with the new value, so the
// CLI receives (and final_url shows) it. Playwright's page.route() never sees redirect hops,
// so this uses the Chrome DevTools Protocol's Fetch domain, which does.
async function rewriteCallback(page, param, value) {
  const cdp = await page.context().newCDPSession(page);
  cdp.on('Fetch.requestPaused', ({ requestId, request }) => {
    const u = new URL(request.url);
    const was = u.searchParams.get(param);
    let answer;
    if (!isCallback(u.href) || was === null || was === value) {
      answer = cdp.send('Fetch.continueRequest', { requestId });
    } else {
      u.searchParams.set(param, value);
      answer = cdp.send('Fetch.fulfillRequest', {
        requestId,
        responseCode: 303,
        responseHeaders: [{ name: 'Location', value: u.href }, { name: 'Cache-Control', value: 'no-store' }],
      });
    }
    answer.catch(() => {}); // the page may already be gone
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: 'http://*/callback*', requestStage: 'Request' }] });
}

// Submit a form and wait until the browser has loaded the page that answers it.
async function clickAndWait(page, selector) {
  const before = page.url();
  await Promise.all([
    page.waitForURL((u) => u.href !== before, { waitUntil: 'load' }),
    page.click(selector),
  ]);
}

main().catch((err) => failAndExit(err?.stack || String(err)));

#!/usr/bin/env node
// Headless "user" for sesame's end-to-end tests: opens the authorization URL in
// Debian's chromium (driven by playwright-core) and goes through the test IdP's
// login and consent pages, until the IdP sends the browser to the CLI's loopback
// listener at http://127.0.0.1:PORT/callback.
//
//   node e2e/browser/signin.js URL
//
// Environment:
//   SESAME_E2E_BROWSER_ACTION  approve (default) | deny | cancel | wrong-state | bad-code | none
//   SESAME_E2E_USER            login name (default alice)
//   SESAME_E2E_PASSWORD        password (default wonderland)
//   CHROMIUM_PATH              browser binary (default /usr/bin/chromium)
//
// Output, JSON lines on stdout:
//   {"event":"open","url":...}
//   {"event":"done","action":...,"final_url":...,"status":...,"text":...}   exit 0
//   {"event":"error","message":...}                                          exit 1

import { randomBytes } from 'node:crypto';

import { chromium } from 'playwright-core';

const ACTIONS = ['approve', 'deny', 'cancel', 'wrong-state', 'bad-code', 'none'];
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

  let url = rawUrl;
  if (action === 'wrong-state') {
    // The IdP echoes whatever state it was given, so the CLI receives a state it never sent.
    const u = new URL(rawUrl);
    u.searchParams.set('state', randomBytes(16).toString('base64url'));
    url = u.href;
  }

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

  if (action === 'bad-code') await garbleCallbackCode(page);

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

// Swap the code in the IdP's redirect to the listener for a garbage value: the hop is
// answered with a 303 to the same URL with the bad code, so the CLI receives (and
// final_url shows) the bad code. Playwright's page.route() never sees redirect hops,
// so this uses the Chrome DevTools Protocol's Fetch domain, which does.
async function garbleCallbackCode(page) {
  const cdp = await page.context().newCDPSession(page);
  cdp.on('Fetch.requestPaused', ({ requestId, request }) => {
    const u = new URL(request.url);
    const code = u.searchParams.get('code');
    let answer;
    if (!isCallback(u.href) || code === null || code === GARBAGE_CODE) {
      answer = cdp.send('Fetch.continueRequest', { requestId });
    } else {
      u.searchParams.set('code', GARBAGE_CODE);
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

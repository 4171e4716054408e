import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { buildOpenApiDocument } from '../../services/api/src/openapi/build-openapi-document.js';
import { startApiInProcess, type ApiInProcess } from '../support/api-app.js';

/**
 * /api/docs in a real browser: the viewer renders every operation of the document, loads nothing
 * from another origin, and its CSP refuses nothing it needs.
 */

/** Debian's chromium package; CHROMIUM_BIN overrides it (never a downloaded browser: there is no network). */
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WAIT_MS = 15_000;

// A missing browser fails the suite (the test must not pass by doing nothing) unless the caller
// says to skip it, as in test/web/chat-page.test.ts.
const browserMissing = !existsSync(CHROMIUM);
const skipBrowser = browserMissing && process.env.CHAT_SKIP_BROWSER === '1' ? `CHAT_SKIP_BROWSER=1 and no Chromium at ${CHROMIUM}` : false;

const openApi = buildOpenApiDocument();
const operationCount = Object.values(openApi.paths ?? {}).reduce((count, item) => count + Object.keys(item).length, 0);

describe('the docs page in Chromium', { skip: skipBrowser }, () => {
  let app: ApiInProcess;
  let browser: Browser;

  before(async () => {
    if (browserMissing) {
      throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install chromium (or set CHAT_SKIP_BROWSER=1 to skip the browser tests)`);
    }
    app = await startApiInProcess();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  test('lists every operation, loads only from its own origin, breaks no CSP rule', async () => {
    const origin = new URL(app.url).origin;
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    const problems: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`) || url.startsWith('data:')) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const violations: string[] = [];
    await page.exposeFunction('reportViolation', (text: string) => violations.push(text));
    await page.addInitScript({
      content: "document.addEventListener('securitypolicyviolation', (e) => window.reportViolation(e.violatedDirective + ' ' + e.blockedURI));",
    });

    const response = await page.goto(`${app.url}/api/docs`, { timeout: WAIT_MS });
    assert.equal(response?.status(), 200);
    await page.locator('.opblock').nth(operationCount - 1).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('.opblock').count(), operationCount, 'one block per operation');
    for (const [path, item] of Object.entries(openApi.paths ?? {})) {
      for (const method of Object.keys(item)) {
        const block = page.locator(`.opblock-${method} [data-path="${path}"]`);
        assert.equal(await block.count(), 1, `${method.toUpperCase()} ${path} is listed`);
      }
    }
    assert.ok(await page.getByText('Chat delivery API').first().isVisible(), 'the title is shown');
    assert.deepEqual(elsewhere, [], 'nothing requested from another origin');
    assert.deepEqual(violations, [], 'no CSP violation');
    assert.deepEqual(problems, [], 'no error in the console');
  });
});

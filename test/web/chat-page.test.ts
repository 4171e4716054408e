import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createDevEdge, type DevEdgeServer } from '@chat/devstack';
import { createConversation, postMessage, randomUsername, registerUser } from '../support/api-client.js';
import { startStack, type Stack } from '../support/stack.js';
import { NGINX, nginxInstalled, startNginxEdge, type NginxEdge } from '../support/nginx-edge.js';

/**
 * The web page (web/public, built by `npm run build`) in a real Chromium, against a real stack:
 * two people in two browser contexts, each on its own gateway replica, chatting through the UI.
 */

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const webDir = join(repoRoot, 'web', 'public');
const artifactsDir = join(repoRoot, 'test-artifacts');

/** Debian's chromium package; CHROMIUM_BIN overrides it (never a downloaded browser: there is no network). */
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
// The browser must not reach for the network on its own (this machine has none) nor use QUIC.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Every wait on the page is bounded by this. */
const WAIT_MS = 10_000;
const PASSWORD = 'correct horse battery';

// A missing browser fails the suite (the test must not pass by doing nothing) unless the caller
// says to skip it.
const browserMissing = !existsSync(CHROMIUM);
const skipBrowser = browserMissing && process.env.CHAT_SKIP_BROWSER === '1' ? `CHAT_SKIP_BROWSER=1 and no Chromium at ${CHROMIUM}` : false;

function requireBrowserAndPage(): void {
  if (browserMissing) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install chromium (or set CHAT_SKIP_BROWSER=1 to skip the browser tests)`);
  }
  for (const file of ['index.html', 'styles.css', 'app.js']) {
    if (!existsSync(join(webDir, file))) throw new Error(`web/public/${file} is missing: run \`npm run build\` first`);
  }
}

function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}

async function listen(edge: DevEdgeServer): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    edge.once('error', reject);
    edge.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(edge.address() as AddressInfo).port}`;
}

interface Person {
  name: string;
  page: Page;
  /** Uncaught exceptions and console errors of the page: there should be none. */
  problems: string[];
}

async function openPage(context: BrowserContext, name: string): Promise<Person> {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.setDefaultNavigationTimeout(WAIT_MS);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`${name}: page error: ${error.message}`));
  page.on('console', (message) => {
    // An api error answer (the 400 for an unknown user) is logged by Chromium too; the page shows it.
    if (message.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) {
      problems.push(`${name}: console error: ${message.text()}`);
    }
  });
  return { name, page, problems };
}

/** Through the sign-in form: `register` or `login`. */
async function signIn(person: Person, url: string, username: string, action: 'register' | 'login'): Promise<void> {
  const { page } = person;
  await page.goto(url);
  await page.locator('#auth-username').fill(username);
  await page.locator('#auth-password').fill(PASSWORD);
  await page.locator(`.auth-form button[value="${action}"]`).click();
  await page.locator('.topbar .me').filter({ hasText: username }).waitFor();
}

async function waitConnected(person: Person): Promise<void> {
  const badge = person.page.locator('.connection-badge[data-state="connected"]');
  await badge.waitFor();
  assert.equal((await badge.textContent())?.trim(), 'connected');
}

function conversationItem(person: Person, title: string) {
  return person.page.locator('.conversation-item').filter({ has: person.page.locator('.conversation-title').getByText(title, { exact: true }) });
}

async function openConversation(person: Person, title: string): Promise<void> {
  await conversationItem(person, title).locator('button').click();
  await person.page.locator('.conversation-heading').getByText(title, { exact: true }).waitFor();
}

/** Types a message and sends it with Enter; `lines` are joined with Shift+Enter. */
async function send(person: Person, ...lines: string[]): Promise<void> {
  const box = person.page.locator('#composer-text');
  await box.focus();
  for (const [i, line] of lines.entries()) {
    if (i > 0) await box.press('Shift+Enter');
    await box.pressSequentially(line);
  }
  await box.press('Enter');
}

interface Shown {
  author: string;
  text: string;
  own: boolean;
}

/** Waits until the open conversation shows exactly `expected.length` messages, then checks them in order. */
async function expectMessages(person: Person, expected: Array<[author: string, text: string]>, me: string): Promise<void> {
  const messages = person.page.locator('.message-list > .message');
  await messages.nth(expected.length - 1).waitFor();
  const shown: Shown[] = [];
  for (const message of await messages.all()) {
    shown.push({
      author: (await message.locator('.message-author').textContent()) ?? '',
      text: (await message.locator('.message-text').textContent()) ?? '',
      own: ((await message.getAttribute('class')) ?? '').split(' ').includes('own'),
    });
  }
  assert.deepEqual(
    shown,
    expected.map(([author, text]) => ({ author, text, own: author === me })),
    `${person.name}'s messages`,
  );
}

async function screenshot(person: Person, file: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, file);
  await person.page.screenshot({ path });
  return relative(repoRoot, path);
}

/** The gateway's own count of open sockets, from its /metrics. */
async function openSockets(gatewayUrl: string): Promise<number> {
  const response = await fetch(`${gatewayUrl}/metrics`, { signal: AbortSignal.timeout(WAIT_MS) });
  const line = (await response.text()).split('\n').find((row) => row.startsWith('chat_gateway_open_sockets'));
  assert.ok(line, `no chat_gateway_open_sockets on ${gatewayUrl}/metrics`);
  return Number(line.split(' ').at(-1));
}

describe('the chat page in a browser, behind the dev edge', { skip: skipBrowser }, () => {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  const edges: DevEdgeServer[] = [];
  // Two edges, each with one gateway: the dev edge balances upgrades round-robin, so one shared
  // edge would put the two pages on replicas in an order the test does not control (the page
  // reconnects, and a reload opens a new socket). One edge per replica pins page A to gateway 0
  // and page B to gateway 1, so every message between them crosses replicas through Redis.
  let edgeA = '';
  let edgeB = '';

  before(async () => {
    requireBrowserAndPage();
    // A short presence grace, so an offline dot shows within the test's waits.
    stack = await startStack({ gateways: 2, env: { PRESENCE_GRACE_MS: '300' } });
    const [gateway0, gateway1] = stack.gatewayUrls as [string, string];
    for (const gatewayUrl of [gateway0, gateway1]) {
      edges.push(createDevEdge({ apiUrl: stack.apiUrl, gatewayUrls: [gatewayUrl], staticDir: webDir }));
    }
    [edgeA, edgeB] = await Promise.all(edges.map(listen)) as [string, string];
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await Promise.all(edges.map((edge) => edge.shutdown()));
    await stack?.stop();
  });

  it('lets two people on different gateways chat live, keeps history across a reload and counts unread', async (t) => {
    assert.ok(browser && stack);
    const alice = await openPage(await browser.newContext({ viewport: { width: 1100, height: 720 } }), 'A');
    const bob = await openPage(await browser.newContext({ viewport: { width: 1100, height: 720 } }), 'B');
    const a = randomUsername('alice');
    const b = randomUsername('bob');

    await signIn(alice, `${edgeA}/`, a, 'register');
    await signIn(bob, `${edgeB}/`, b, 'register');
    await Promise.all([waitConnected(alice), waitConnected(bob)]);
    assert.deepEqual(
      [await openSockets(stack.gatewayUrls[0] as string), await openSockets(stack.gatewayUrls[1] as string)],
      [1, 1],
      'page A on gateway 0 and page B on gateway 1',
    );

    // A names someone who does not exist: the api's 400 message shows in the dialog.
    await alice.page.locator('.new-conversation').click();
    const dialog = alice.page.locator('dialog[open]');
    await dialog.getByLabel('Title').fill('Lunch plans');
    await dialog.getByLabel('People').fill(`nobody-${b}`);
    await dialog.locator('button[type="submit"]').click();
    const dialogError = dialog.locator('.form-error');
    await dialogError.waitFor();
    assert.equal(await dialogError.textContent(), `no such user(s): nobody-${b}`);
    t.diagnostic(`screenshot: ${await screenshot(alice, 'web-chat-dialog-error.png')}`);

    await dialog.getByLabel('People').fill(b);
    await dialog.locator('button[type="submit"]').click();
    await dialog.waitFor({ state: 'detached' });
    await alice.page.locator('.conversation-heading').getByText('Lunch plans', { exact: true }).waitFor();

    await send(alice, 'Hi B');
    await expectMessages(alice, [[a, 'Hi B']], a);

    // B has not opened it: the live message shows up as an unread count on a new list entry.
    await conversationItem(bob, 'Lunch plans').and(bob.page.locator('[data-unread="1"]')).waitFor();
    assert.equal(await conversationItem(bob, 'Lunch plans').locator('.unread-badge').textContent(), '1');
    await openConversation(bob, 'Lunch plans');
    await expectMessages(bob, [[a, 'Hi B']], b);
    await conversationItem(bob, 'Lunch plans').and(bob.page.locator('[data-unread="0"]')).waitFor();
    assert.equal(await conversationItem(bob, 'Lunch plans').locator('.unread-badge').isVisible(), false);

    // Shift+Enter is a new line, Enter sends; both directions arrive live and in order.
    await send(bob, 'Hello A', 'how are you?');
    const afterReply: Array<[string, string]> = [
      [a, 'Hi B'],
      [b, 'Hello A\nhow are you?'],
    ];
    await expectMessages(alice, afterReply, a);
    await expectMessages(bob, afterReply, b);

    // Sent back to back: they keep the order typed. Markup in a message stays text.
    const markup = '<img src=x onerror="document.title=1"> & <b>bold</b>';
    await send(alice, 'Great, and you?');
    await send(alice, markup);
    await send(bob, 'Fine!');
    const fiveMessages: Array<[string, string]> = [...afterReply, [a, 'Great, and you?'], [a, markup], [b, 'Fine!']];
    await expectMessages(alice, fiveMessages, a);
    await expectMessages(bob, fiveMessages, b);
    for (const person of [alice, bob]) {
      assert.equal(await person.page.locator('.message-list img, .message-list b').count(), 0, `${person.name}: markup was rendered`);
    }

    // A renames the conversation and adds a third person (PATCH); B sees the new title with the next message.
    const carol = await registerUser(edgeA, randomUsername('carol'));
    await alice.page.locator('.edit-conversation').click();
    const editDialog = alice.page.locator('dialog[open]');
    await editDialog.getByLabel('Title').fill('Lunch on Friday');
    await editDialog.getByLabel('Add people').fill(carol.username);
    await editDialog.locator('button[type="submit"]').click();
    await editDialog.waitFor({ state: 'detached' });
    await alice.page.locator('.conversation-heading').getByText('Lunch on Friday', { exact: true }).waitFor();
    const members = (await alice.page.locator('.conversation-members-line').textContent()) ?? '';
    for (const name of [a, b, carol.username]) assert.ok(members.includes(name), `members line ${JSON.stringify(members)} lacks ${name}`);
    await send(alice, 'Renamed it');
    const sixMessages: Array<[string, string]> = [...fiveMessages, [a, 'Renamed it']];
    await expectMessages(bob, sixMessages, b);
    await conversationItem(bob, 'Lunch on Friday').waitFor();

    // B reloads: still signed in (sessionStorage), the conversation reopens with its history from REST.
    await bob.page.reload();
    await bob.page.locator('.topbar .me').filter({ hasText: b }).waitFor();
    await bob.page.locator('.conversation-heading').getByText('Lunch on Friday', { exact: true }).waitFor();
    await expectMessages(bob, sixMessages, b);
    await waitConnected(bob);

    // A second conversation, not open on B's side: its messages count as unread there.
    await alice.page.locator('.new-conversation').click();
    const secondDialog = alice.page.locator('dialog[open]');
    await secondDialog.getByLabel('Title').fill('Second topic');
    await secondDialog.getByLabel('People').fill(b);
    await secondDialog.locator('button[type="submit"]').click();
    await secondDialog.waitFor({ state: 'detached' });
    await alice.page.locator('.conversation-heading').getByText('Second topic', { exact: true }).waitFor();
    await send(alice, 'Ping 1');
    await expectMessages(alice, [[a, 'Ping 1']], a);
    await send(alice, 'Ping 2');
    await expectMessages(alice, [[a, 'Ping 1'], [a, 'Ping 2']], a);
    await conversationItem(bob, 'Second topic').and(bob.page.locator('[data-unread="2"]')).waitFor();
    assert.equal(await conversationItem(bob, 'Second topic').locator('.unread-badge').textContent(), '2');
    // B still reads the first one, which has nothing unread.
    assert.equal(await bob.page.locator('.conversation-heading').textContent(), 'Lunch on Friday');
    assert.equal(await conversationItem(bob, 'Lunch on Friday').getAttribute('data-unread'), '0');
    // Newest activity first.
    assert.deepEqual(await bob.page.locator('.conversation-title').allTextContents(), ['Second topic', 'Lunch on Friday']);

    await Promise.all([waitConnected(alice), waitConnected(bob)]);
    t.diagnostic(`screenshot: ${await screenshot(alice, 'web-chat-a.png')}`);
    t.diagnostic(`screenshot: ${await screenshot(bob, 'web-chat-b.png')}`);

    await openConversation(bob, 'Second topic');
    await expectMessages(bob, [[a, 'Ping 1'], [a, 'Ping 2']], b);
    await conversationItem(bob, 'Second topic').and(bob.page.locator('[data-unread="0"]')).waitFor();

    // A phone-sized window shows one pane at a time.
    await bob.page.setViewportSize({ width: 390, height: 760 });
    assert.equal(await bob.page.locator('.sidebar').isVisible(), false);
    t.diagnostic(`screenshot: ${await screenshot(bob, 'web-chat-b-narrow.png')}`);
    await bob.page.locator('.back-button').click();
    await bob.page.locator('.sidebar').waitFor();

    assert.deepEqual([...alice.problems, ...bob.problems], []);
  });

  it('shows an online dot per member and who is typing', async (t) => {
    assert.ok(browser && stack);
    const ann = await registerUser(edgeA, randomUsername('ann'));
    const ben = await registerUser(edgeA, randomUsername('ben'));
    await createConversation(edgeA, ann.token, [ben.username], 'Presence');
    const annPage = await openPage(await browser.newContext({ viewport: { width: 1100, height: 720 } }), 'ann');
    await signIn(annPage, `${edgeA}/`, ann.username, 'login');
    await waitConnected(annPage);
    await openConversation(annPage, 'Presence');
    const benDot = annPage.page.locator(`.conversation-members-line .member[data-user="${ben.username}"]`);
    await benDot.and(annPage.page.locator('[data-presence="offline"]')).waitFor();
    assert.equal(await annPage.page.locator(`.member[data-user="${ann.username}"]`).getAttribute('data-presence'), 'online');

    const benContext = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    const benPage = await openPage(benContext, 'ben');
    await signIn(benPage, `${edgeB}/`, ben.username, 'login');
    await benDot.and(annPage.page.locator('[data-presence="online"]')).waitFor();

    await openConversation(benPage, 'Presence');
    await benPage.page.locator('#composer-text').pressSequentially('on my way');
    const typingLine = annPage.page.locator('.typing-line');
    await typingLine.getByText(`${ben.username} is typing…`, { exact: true }).waitFor();
    t.diagnostic(`screenshot: ${await screenshot(annPage, 'web-chat-presence.png')}`);
    await benPage.page.locator('#composer-text').press('Enter');
    await expectMessages(annPage, [[ben.username, 'on my way']], ann.username);
    assert.equal((await typingLine.textContent())?.trim(), '', 'the message ends the indicator');

    await benContext.close();
    await benDot.and(annPage.page.locator('[data-presence="offline"]')).waitFor();
    assert.deepEqual([...annPage.problems, ...benPage.problems], []);
  });

  it('shows the latest page first and loads older pages when scrolled to the top', async (t) => {
    assert.ok(browser && stack);
    const writer = await registerUser(edgeA, randomUsername('writer'));
    const reader = await registerUser(edgeA, randomUsername('reader'));
    const conversation = await createConversation(edgeA, writer.token, [reader.username], 'Long history');
    const total = 130;
    for (let seq = 1; seq <= total; seq += 1) await postMessage(edgeA, writer.token, conversation.id, `message ${seq}`);

    const person = await openPage(await browser.newContext({ viewport: { width: 1000, height: 700 } }), 'reader');
    // The history reads the page makes: newest first, one request per page (wire 1.1 `before`).
    const historyReads: string[] = [];
    person.page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === `/api/conversations/${conversation.id}/messages` && request.method() === 'GET') historyReads.push(url.search);
    });
    await signIn(person, `${edgeB}/`, reader.username, 'login');
    await openConversation(person, 'Long history');

    const expected = (from: number): Array<[string, string]> =>
      Array.from({ length: total - from + 1 }, (_, i) => [writer.username, `message ${from + i}`]);
    // The newest 50 (one page) first, scrolled to the bottom.
    await expectMessages(person, expected(81), reader.username);
    const logBox = await person.page.locator('.messages').boundingBox();
    const lastBox = await person.page.locator('.message-list > .message').last().boundingBox();
    assert.ok(logBox && lastBox && lastBox.y + lastBox.height <= logBox.y + logBox.height + 1, 'scrolled to the newest message');

    // Home on the focused log scrolls to the top, which loads the page before; twice reaches seq 1.
    const log = person.page.locator('.messages');
    await log.focus();
    await log.press('Home');
    await expectMessages(person, expected(31), reader.username);
    await log.press('Home');
    await expectMessages(person, expected(1), reader.username);
    await person.page.locator('.older-button').waitFor({ state: 'hidden' });
    t.diagnostic(`screenshot: ${await screenshot(person, 'web-chat-history.png')}`);
    assert.deepEqual(historyReads, ['?before=999999999999999&limit=50', '?before=81&limit=50', '?before=31&limit=50']);

    // Live messages still arrive below the history read over REST.
    await waitConnected(person);
    await postMessage(edgeA, writer.token, conversation.id, 'message 131');
    await expectMessages(person, [...expected(1), [writer.username, 'message 131']], reader.username);
    assert.equal(historyReads.length, 3, 'a live message needs no history read');

    assert.deepEqual(person.problems, []);
  });

  it('edits and deletes one\'s own messages; the other side sees "edited" and "deleted" live, and after a reload', async (t) => {
    assert.ok(browser && stack);
    const writer = await registerUser(edgeA, randomUsername('writer'));
    const reader = await registerUser(edgeA, randomUsername('reader'));
    const conversation = await createConversation(edgeA, writer.token, [reader.username], 'Typos happen');
    await postMessage(edgeA, reader.token, conversation.id, 'not yours to change');

    const author = await openPage(await browser.newContext({ viewport: { width: 1000, height: 700 } }), 'author');
    const other = await openPage(await browser.newContext({ viewport: { width: 1000, height: 700 } }), 'other');
    const confirmations: string[] = [];
    author.page.on('dialog', (dialog) => {
      confirmations.push(dialog.message());
      void dialog.accept();
    });
    await signIn(author, `${edgeA}/`, writer.username, 'login');
    await signIn(other, `${edgeB}/`, reader.username, 'login');
    await Promise.all([waitConnected(author), waitConnected(other)]);
    await openConversation(author, 'Typos happen');
    await openConversation(other, 'Typos happen');
    await send(author, 'Helo there');
    await send(author, 'I take that back');
    const posted: Array<[string, string]> = [
      [reader.username, 'not yours to change'],
      [writer.username, 'Helo there'],
      [writer.username, 'I take that back'],
    ];
    await expectMessages(author, posted, writer.username);
    await expectMessages(other, posted, reader.username);
    // Only one's own messages can be changed.
    const ownMessages = (person: Person) => person.page.locator('.message-list > .message.own');
    assert.equal(await author.page.locator('.message-list > .message:not(.own) .message-action').count(), 0);
    assert.equal(await other.page.locator('.message-list > .message.own').count(), 1);

    await ownMessages(author).nth(0).getByRole('button', { name: 'Edit message' }).click();
    const dialog = author.page.locator('dialog[open]');
    await dialog.getByLabel('Message').fill('Hello there');
    await dialog.locator('button[type="submit"]').click();
    await dialog.waitFor({ state: 'detached' });
    await ownMessages(author).nth(1).getByRole('button', { name: 'Delete message' }).click();
    assert.deepEqual(confirmations, ['Delete this message for everyone?']);

    const changed: Array<[string, string]> = [
      [reader.username, 'not yours to change'],
      [writer.username, 'Hello there'],
      [writer.username, 'deleted'],
    ];
    for (const [person, me] of [
      [author, writer.username],
      [other, reader.username],
    ] as const) {
      const edited = person.page.locator('.message-list > .message').nth(1);
      await edited.locator('.message-edited').waitFor();
      await person.page.locator('.message-list > .message.deleted').waitFor();
      await expectMessages(person, changed, me);
      assert.equal(await person.page.locator('.message.deleted .message-action').count(), 0, `${person.name}: a deleted message has no actions`);
    }
    t.diagnostic(`screenshot: ${await screenshot(other, 'web-chat-edited.png')}`);

    // A reload reads the current versions over REST.
    await other.page.reload();
    await other.page.locator('.conversation-heading').getByText('Typos happen', { exact: true }).waitFor();
    await expectMessages(other, changed, reader.username);
    await other.page.locator('.message-list > .message').nth(1).locator('.message-edited').waitFor();
    assert.deepEqual([...author.problems, ...other.problems], []);
  });

  it('leaves a conversation from its pane: it is gone from the list, for good, and the other conversations stay', async (t) => {
    assert.ok(browser && stack);
    const writer = await registerUser(edgeA, randomUsername('writer'));
    const reader = await registerUser(edgeA, randomUsername('reader'));
    const left = await createConversation(edgeA, writer.token, [reader.username], 'Leaving this one');
    const kept = await createConversation(edgeA, writer.token, [reader.username], 'Staying in this one');
    await postMessage(edgeA, writer.token, left.id, 'are you still here?');

    const person = await openPage(await browser.newContext({ viewport: { width: 1000, height: 700 } }), 'leaver');
    const confirmations: string[] = [];
    person.page.on('dialog', (dialog) => {
      confirmations.push(dialog.message());
      void dialog.accept();
    });
    await signIn(person, `${edgeB}/`, reader.username, 'login');
    await waitConnected(person);
    await openConversation(person, 'Leaving this one');
    await expectMessages(person, [[writer.username, 'are you still here?']], reader.username);
    await person.page.locator('.leave-conversation').click();
    await conversationItem(person, 'Leaving this one').waitFor({ state: 'detached' });
    assert.deepEqual(confirmations, ['Leave “Leaving this one”? You will no longer see it or receive its messages, unless someone adds you again.']);
    assert.deepEqual(await person.page.locator('.conversation-title').allTextContents(), ['Staying in this one']);
    assert.equal(await person.page.locator('.conversation-pane').isVisible(), false, 'the pane closed with it');

    // Nothing of it comes back live; the conversation the user stays in still does.
    await postMessage(edgeA, writer.token, left.id, 'gone?');
    await postMessage(edgeA, writer.token, kept.id, 'still here');
    await conversationItem(person, 'Staying in this one').and(person.page.locator('[data-unread="1"]')).waitFor();
    assert.deepEqual(await person.page.locator('.conversation-title').allTextContents(), ['Staying in this one']);
    const answer = await fetch(`${edgeA}/api/conversations/${left.id}`, { headers: { authorization: `Bearer ${reader.token}` }, signal: AbortSignal.timeout(WAIT_MS) });
    assert.equal(answer.status, 404);

    // The last member leaving deletes it; the question says so. A reload shows the list without it.
    await openConversation(person, 'Staying in this one');
    const alone = await createConversation(edgeA, reader.token, [], 'Only me');
    await person.page.reload();
    await openConversation(person, 'Only me');
    await person.page.locator('.leave-conversation').click();
    await conversationItem(person, 'Only me').waitFor({ state: 'detached' });
    assert.equal(confirmations.at(-1), 'Leave “Only me”? You are its last member: it will be deleted with all its messages.');
    const deleted = await fetch(`${edgeA}/api/conversations/${alone.id}`, { headers: { authorization: `Bearer ${reader.token}` }, signal: AbortSignal.timeout(WAIT_MS) });
    assert.equal(deleted.status, 404);
    await person.page.reload();
    await conversationItem(person, 'Staying in this one').waitFor();
    assert.deepEqual(await person.page.locator('.conversation-title').allTextContents(), ['Staying in this one']);
    t.diagnostic(`screenshot: ${await screenshot(person, 'web-chat-left.png')}`);

    assert.deepEqual(person.problems, []);
  });

  it('one user on two devices: a conversation created by someone else appears live, badges come from the server, reading on one clears both', async (t) => {
    assert.ok(browser && stack);
    const writer = await registerUser(edgeA, randomUsername('writer'));
    const reader = await registerUser(edgeA, randomUsername('reader'));
    const laptop = await openPage(await browser.newContext({ viewport: { width: 1000, height: 700 } }), 'laptop');
    const phone = await openPage(await browser.newContext({ viewport: { width: 1000, height: 700 } }), 'phone');
    await signIn(laptop, `${edgeA}/`, reader.username, 'login');
    await signIn(phone, `${edgeB}/`, reader.username, 'login');
    await Promise.all([waitConnected(laptop), waitConnected(phone)]);

    // Created by someone else, empty: both devices list it at once (the `added` frame), no reload.
    const conversation = await createConversation(edgeA, writer.token, [reader.username], 'Appears live');
    for (const device of [laptop, phone]) await conversationItem(device, 'Appears live').and(device.page.locator('[data-unread="0"]')).waitFor();

    // Two messages: the same unread count on both devices, as the server keeps it.
    await postMessage(edgeA, writer.token, conversation.id, 'one');
    await postMessage(edgeA, writer.token, conversation.id, 'two');
    for (const device of [laptop, phone]) await conversationItem(device, 'Appears live').and(device.page.locator('[data-unread="2"]')).waitFor();

    // Read on the laptop: the phone's badge clears too (the `read` frame), and stays clear after a reload.
    await openConversation(laptop, 'Appears live');
    await expectMessages(laptop, [[writer.username, 'one'], [writer.username, 'two']], reader.username);
    for (const device of [laptop, phone]) await conversationItem(device, 'Appears live').and(device.page.locator('[data-unread="0"]')).waitFor();
    await phone.page.reload();
    await waitConnected(phone);
    await conversationItem(phone, 'Appears live').and(phone.page.locator('[data-unread="0"]')).waitFor();

    // What the laptop sends shows once there (the pending copy becomes the stored one), and once on the phone.
    await send(laptop, 'sent once');
    const three: Array<[string, string]> = [
      [writer.username, 'one'],
      [writer.username, 'two'],
      [reader.username, 'sent once'],
    ];
    await expectMessages(laptop, three, reader.username);
    await laptop.page.locator('.message.pending').waitFor({ state: 'detached' });
    await openConversation(phone, 'Appears live');
    await expectMessages(phone, three, reader.username);
    // Renamed by the writer: both lists follow (the `updated` frame).
    await fetch(`${edgeA}/api/conversations/${conversation.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${writer.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Renamed live' }),
      signal: AbortSignal.timeout(WAIT_MS),
    });
    for (const device of [laptop, phone]) await conversationItem(device, 'Renamed live').waitFor();
    t.diagnostic(`screenshot: ${await screenshot(phone, 'web-chat-two-devices.png')}`);
    assert.deepEqual([...laptop.problems, ...phone.problems], []);
  });
});

// ---- behind nginx: the deployed edge config serves the same page ----

describe('the chat page behind the nginx edge', { skip: skipBrowser || (nginxInstalled() ? false : `nginx is not installed at ${NGINX}`) }, () => {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  let dir = '';
  let edge: NginxEdge | undefined;
  let edgeUrl = '';

  before(async () => {
    requireBrowserAndPage();
    stack = await startStack({ gateways: 2 });
    dir = mkdtempSync(join(tmpdir(), 'chat-web-root-'));
    // nginx's workers run as nobody when the test runs as root: a copy they can surely read.
    chmodSync(dir, 0o755);
    const webRoot = join(dir, 'web');
    mkdirSync(webRoot, { mode: 0o755 });
    for (const file of ['index.html', 'styles.css', 'app.js']) copyFileSync(join(webDir, file), join(webRoot, file));
    edge = await startNginxEdge(stack, { webRoot });
    edgeUrl = edge.url;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await edge?.stop();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page with the right types and keeps unknown paths a JSON 404', async () => {
    const page = await fetch(`${edgeUrl}/`, { signal: AbortSignal.timeout(WAIT_MS) });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /<div id="app"/);
    for (const [path, type] of [
      ['/app.js', /^text\/javascript/],
      ['/styles.css', /^text\/css/],
    ] as const) {
      const response = await fetch(`${edgeUrl}${path}`, { signal: AbortSignal.timeout(WAIT_MS) });
      await response.arrayBuffer();
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-type') ?? '', type, path);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', path);
    }
    const missing = await fetch(`${edgeUrl}/no/such/page`, { signal: AbortSignal.timeout(WAIT_MS) });
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: { code: 'not_found', message: 'No such route.' } });
  });

  it('signs in, connects, chats and logs out through nginx', async (t) => {
    assert.ok(browser && stack);
    const person = await openPage(await browser.newContext({ viewport: { width: 900, height: 640 } }), 'nginx');
    const name = randomUsername('edge');
    await person.page.goto(`${edgeUrl}/`);
    await person.page.locator('#auth-username').waitFor();
    t.diagnostic(`screenshot: ${await screenshot(person, 'web-chat-sign-in.png')}`);
    await signIn(person, `${edgeUrl}/`, name, 'register');
    await waitConnected(person);

    const friend = await registerUser(edgeUrl, randomUsername('friend'));
    const conversation = await createConversation(edgeUrl, friend.token, [name], 'Via nginx');
    await postMessage(edgeUrl, friend.token, conversation.id, 'hello through nginx');
    await conversationItem(person, 'Via nginx').and(person.page.locator('[data-unread="1"]')).waitFor();
    await openConversation(person, 'Via nginx');
    await send(person, 'hello back');
    await expectMessages(
      person,
      [
        [friend.username, 'hello through nginx'],
        [name, 'hello back'],
      ],
      name,
    );

    // Logging out forgets the session: a reload asks to sign in again.
    await person.page.locator('.logout').click();
    await person.page.locator('#auth-username').waitFor();
    await person.page.reload();
    await person.page.locator('#auth-username').waitFor();
    assert.equal(await person.page.locator('.topbar').count(), 0);
    assert.deepEqual(person.problems, []);
  });
});

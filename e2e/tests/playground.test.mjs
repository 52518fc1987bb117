// Issue 25, part 6: GraphQL Playground (graphql-playground-react 1.7.28,
// served by the gateway at /playground) in headless Chromium, with no
// internet: everything the page loads comes from the gateway and any other
// request is refused. A query typed into the editor runs with the play
// button and its data shows in the result pane; the DOCS and SCHEMA tabs
// show the schema; a subscription runs over a WebSocket to the gateway's
// /graphql in the legacy subscriptions-transport-ws protocol (subprotocol
// graphql-ws, the only one Playground speaks) and shows the event a REST
// caller adds.
//
// This file's server sees 1 addEvent call, inside the simulator's 5
// successes (calls 6–15 of every 15 fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForSubscriptions, gatewayWithBrowser, screenshot } from '../helpers.mjs';

const env = gatewayWithBrowser();

const QUERY = '{ user(id: "1") { userName events { id name } } }';
const SUBSCRIPTION = 'subscription { eventAdded { id name } }';
const PLAY = '[title="Execute Query (Ctrl-Enter)"]';

// The page's WebSockets, as the page sees them: their URL, the subprotocol
// the gateway chose, and their frames.
function recordSockets() {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      const rec = { url: String(url), protocol: null, sent: [], received: [] };
      window.__sockets.push(rec);
      this.__rec = rec;
      this.addEventListener('open', () => { rec.protocol = this.protocol; });
      this.addEventListener('message', (e) => rec.received.push(String(e.data)));
    }
    send(data) {
      this.__rec.sent.push(String(data));
      return super.send(data);
    }
  };
}

// Playground's panes are CodeMirror editors under generated class names:
// the query editor is the first, the result pane the one in mode
// graphql-results, the SCHEMA tab's SDL one in mode graphql, read-only.
// Installed in the page as window.panes(mode): their texts, in page order.
function installPanes() {
  window.panes = (mode) => [...document.querySelectorAll('.CodeMirror')]
    .map((e) => e.CodeMirror)
    .filter((cm) => cm && cm.getOption('mode') === mode && cm.getOption('readOnly'))
    .map((cm) => cm.getValue());
}
const editor = () => document.querySelector('.CodeMirror')?.CodeMirror;
// The latest response in the result pane (Playground lists a tab's
// responses, a subscription's under the query's before it), parsed.
const lastResult = async (page) => JSON.parse((await page.evaluate(() => window.panes('graphql-results'))).at(-1));
const waitForResult = (page, want) => page.waitForFunction(
  (w) => window.panes('graphql-results').at(-1)?.includes(w), want, { timeout: 30000 });

// Replaces the query editor's text by typing it, as a person would, then
// runs it with the play button.
async function run(page, text) {
  await page.evaluate(() => document.querySelector('.CodeMirror').CodeMirror.setValue(''));
  // Clicked below the text, so that the mouse does not rest on the tokens
  // as they are typed (hovering one opens its type information).
  await page.click('.CodeMirror', { position: { x: 300, y: 500 } });
  await page.keyboard.type(text);
  assert.equal(await page.evaluate(() => document.querySelector('.CodeMirror').CodeMirror.getValue()), text);
  // Closed autocomplete popups leave their type information behind
  // (graphql/graphql-playground#1429); the page hides those leftovers.
  const leftovers = await page.evaluate(() => [...document.querySelectorAll('.CodeMirror-hints-wrapper')]
    .filter((e) => !e.querySelector(':scope > .CodeMirror-hints') && e.checkVisibility()).length);
  assert.equal(leftovers, 0, 'autocomplete leftovers over the editor');
  await page.click(PLAY);
}

test('GraphQL Playground with no internet: a query, the schema docs, an eventAdded subscription', { timeout: 180000 }, async (t) => {
  const context = await env.browser.newContext({ viewport: { width: 1400, height: 900 } });
  t.after(() => context.close());
  const page = await context.newPage();
  const origin = new URL(env.gw.url).origin;
  const failed = [];
  const offsite = [];
  await context.route('**/*', (route) => {
    if (new URL(route.request().url()).origin === origin) return route.continue();
    offsite.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
  page.on('pageerror', (e) => failed.push('page error: ' + e.message));
  const loaded = new Set();
  const posted = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path !== '/graphql') loaded.add(path);
    else if (r.method() === 'POST') posted.push(JSON.parse(r.postData()).query);
  });
  await context.addInitScript(recordSockets);
  await context.addInitScript(installPanes);

  await page.goto(env.gw.url + '/playground', { waitUntil: 'load' });
  await page.waitForFunction(editor, null, { timeout: 30000 });
  assert.equal(await page.title(), 'Event Management System');
  // The endpoint bar shows the gateway's /graphql, made absolute on the page's host.
  assert.equal(await page.locator('input[value$="/graphql"]').inputValue(), env.gw.url + '/graphql');

  await t.test('a query typed into the editor runs with the play button', async () => {
    await run(page, QUERY);
    await waitForResult(page, 'Workshop');
    const result = await lastResult(page);
    assert.equal(result.data.user.userName, 'john_doe');
    assert.deepEqual(result.data.user.events.map((e) => e.id), ['event-1', 'event-3']);
    // Playground sends the document as it prints it.
    assert.ok(posted.some((q) => /^\{\s*user\(id: "1"\) \{\s*userName\s+events \{\s*id\s+name\s*\}\s*\}\s*\}\s*$/.test(q)),
      `POSTed: ${posted.join(' | ')}`);
  });

  await t.test('the DOCS tab lists the operations and a field’s result type; the SCHEMA tab shows the SDL', async () => {
    const docs = page.getByText('Docs', { exact: true }).first();
    await docs.click();
    await page.getByText('addEvent', { exact: true }).click();
    await page.waitForFunction(() => document.body.innerText.includes('union AddEventResult ='), null, { timeout: 30000 });
    const text = await page.evaluate(() => document.body.innerText);
    for (const want of ['users: [User!]!', 'addEvent(...): AddEventResult!', 'eventAdded(...): Event!',
      'union AddEventResult =\nAddEventSuccess\nServiceUnavailable\nInvalidInput']) {
      assert.ok(text.includes(want), `docs lack ${JSON.stringify(want)}`);
    }
    await screenshot(page, 'playground-docs.png');
    await docs.click();

    const schema = page.getByText('Schema', { exact: true }).first();
    await schema.click();
    await page.waitForFunction(() => /type User \{/.test(window.panes('graphql').join('\n')), null, { timeout: 30000 });
    const sdl = await page.evaluate(() => window.panes('graphql').join('\n'));
    assert.match(sdl, /union AddEventResult = AddEventSuccess \| ServiceUnavailable \| InvalidInput/);
    assert.match(sdl, /eventAdded\(/);
    await schema.click();
  });

  await t.test('an eventAdded subscription over the legacy protocol shows the event a REST caller adds', async () => {
    await run(page, SUBSCRIPTION);
    await waitForSubscriptions(env.gw.url, 1, 30000);

    const res = await fetch(env.gw.url + '/addEvent', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Playground push', userId: '1' }),
    });
    const added = await res.json();
    assert.equal(res.status, 200, JSON.stringify(added));
    await waitForResult(page, added.event.id);
    assert.deepEqual(await lastResult(page), { data: { eventAdded: { id: added.event.id, name: 'Playground push' } } });
    await screenshot(page, 'playground.png');

    // One WebSocket, to the gateway's /graphql, speaking the legacy protocol.
    const sockets = await page.evaluate(() => window.__sockets);
    assert.equal(sockets.length, 1, `sockets: ${JSON.stringify(sockets)}`);
    const [ws] = sockets;
    assert.equal(ws.url, origin.replace(/^http/, 'ws') + '/graphql');
    assert.equal(ws.protocol, 'graphql-ws');
    const sent = ws.sent.map((f) => JSON.parse(f));
    const received = ws.received.map((f) => JSON.parse(f));
    assert.deepEqual(sent.map((m) => m.type).slice(0, 2), ['connection_init', 'start']);
    assert.match(sent[1].payload.query, /subscription\s*\{\s*eventAdded\s*\{\s*id\s+name\s*\}\s*\}/);
    assert.equal(received[0].type, 'connection_ack');
    const data = received.filter((m) => m.type === 'data');
    assert.deepEqual(data.map((m) => m.payload), [{ data: { eventAdded: { id: added.event.id, name: 'Playground push' } } }]);

    // The play button, now a stop button, ends the subscription on the gateway.
    await page.click(PLAY);
    await waitForSubscriptions(env.gw.url, 0, 30000);
    const stopped = (await page.evaluate(() => window.__sockets))[0].sent.map((f) => JSON.parse(f).type);
    assert.ok(stopped.includes('stop'), `sent: ${stopped.join(', ')}`);
  });

  // Only the page and its three files, all from the gateway; nothing offsite.
  assert.deepEqual([...loaded].sort(), ['/ide/playground/favicon.png', '/ide/playground/index.css', '/ide/playground/middleware.js', '/playground']);
  assert.deepEqual(offsite, [], 'the page asked for something that is not on the gateway');
  assert.deepEqual(failed, [], 'requests failed or page errors: ' + failed.join(', '));
});

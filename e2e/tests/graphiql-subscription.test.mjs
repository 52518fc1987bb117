// Issue 14: GraphiQL in headless Chromium runs a subscription and shows the
// pushed event, with no internet: everything the page loads comes from the
// gateway (the GraphiQL bundle carries its graphql-ws client), any other
// request is refused, and the subscription goes over a WebSocket to the
// gateway's /graphql (graphql-transport-ws).
//
// This file's server sees 1 addEvent call, inside the simulator's 5
// successes (calls 6–15 of every 15 fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addEvent, waitForSubscriptions, gatewayWithBrowser, screenshot } from '../helpers.mjs';

const env = gatewayWithBrowser();

const SUBSCRIPTION = 'subscription { eventAdded { id name } }';

test('GraphiQL runs a subscription and the result pane shows the event another client adds', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const origin = new URL(env.gw.url).origin;
  const failed = [];
  const offsite = [];
  // Offline: anything not from the gateway is refused (and noted).
  await context.route('**/*', (route) => {
    if (new URL(route.request().url()).origin === origin) return route.continue();
    offsite.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
  page.on('pageerror', (e) => failed.push('page error: ' + e.message));
  const posted = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/graphql') posted.push(JSON.parse(r.postData()).query);
  });
  // The page's WebSockets, as the page sees them: their URL, the
  // subprotocol the gateway chose, and their frames.
  await context.addInitScript(() => {
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
  });
  await page.goto(env.gw.url + '/', { waitUntil: 'load' });
  await page.waitForSelector('.graphiql-container', { timeout: 30000 });
  await page.waitForFunction(() => document.querySelector('.graphiql-query-editor .CodeMirror')?.CodeMirror, null, { timeout: 30000 });
  // Type the subscription into the editor (CodeMirror), then run it.
  await page.evaluate(() => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(''));
  await page.click('.graphiql-query-editor .CodeMirror');
  await page.keyboard.type(SUBSCRIPTION);
  const typed = await page.evaluate(() => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue());
  assert.equal(typed, SUBSCRIPTION);
  // GraphiQL parses the editor 100 ms after the last edit (the same
  // debounced handler saves the query to localStorage). Run earlier and its
  // fetcher does not know the operation is a subscription: it POSTs it
  // (Accept: application/json, multipart/mixed) instead of using the
  // WebSocket. Wait for the parse, as a person's pause would.
  await page.waitForFunction((q) => localStorage.getItem('graphiql:query') === q, SUBSCRIPTION, { timeout: 10000 });
  await page.click('.graphiql-execute-button');
  await waitForSubscriptions(env.gw.url, 1, 30000);

  const added = await addEvent(env.gw.url, { name: 'GraphiQL push', userId: '2', details: 'e2e subscriptions' });
  await page.waitForFunction((id) => document.querySelector('.result-window')?.textContent.includes(id), added.id, { timeout: 30000 });
  const result = await page.textContent('.result-window');
  assert.match(result, /"eventAdded"/);
  assert.match(result, /GraphiQL push/);

  await screenshot(page, 'graphiql-subscription.png');

  // One WebSocket, to the gateway's /graphql, speaking graphql-transport-ws.
  const sockets = await page.evaluate(() => window.__sockets);
  assert.equal(sockets.length, 1, `sockets: ${JSON.stringify(sockets)}`);
  const [ws] = sockets;
  assert.equal(ws.url, origin.replace(/^http/, 'ws') + '/graphql');
  assert.equal(ws.protocol, 'graphql-transport-ws');
  const sent = ws.sent.map((f) => JSON.parse(f));
  const received = ws.received.map((f) => JSON.parse(f));
  assert.deepEqual(sent.map((m) => m.type).slice(0, 2), ['connection_init', 'subscribe']);
  assert.equal(sent[1].payload.query, SUBSCRIPTION);
  assert.equal(received[0].type, 'connection_ack');
  const next = received.filter((m) => m.type === 'next');
  assert.deepEqual(next.map((m) => m.payload), [{ data: { eventAdded: { id: added.id, name: 'GraphiQL push' } } }]);

  // The stop button ends the subscription on the gateway.
  await page.click('.graphiql-execute-button');
  await waitForSubscriptions(env.gw.url, 0, 30000);

  // Over HTTP only the schema's introspection.
  assert.ok(posted.length >= 1 && posted.every((q) => /IntrospectionQuery/.test(q)), `POSTed: ${posted.join(' | ')}`);
  assert.deepEqual(offsite, [], 'the page asked for something that is not on the gateway');
  assert.deepEqual(failed, [], 'requests failed or page errors: ' + failed.join(', '));
  await context.close();
});

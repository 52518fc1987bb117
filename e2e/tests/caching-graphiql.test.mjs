// Issue 12: GraphiQL in headless Chromium still shows fresh results after a
// mutation: a query, the addEvent mutation run from the editor, the query
// again, and the result pane shows the new event.
//
// This file's server sees 2 addEvent calls, inside the simulator's 5
// successes (calls 6–15 of every 15 fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayWithBrowser, screenshot } from '../helpers.mjs';

const env = gatewayWithBrowser();

const FRESH_MS = 5000; // CACHE_FRESH_TTL's default
const QUERY = '{ user(id: "1") { userName events { id name } } }';
const NAME = 'GraphiQL read-your-writes';
const MUTATION = `mutation {
  addEvent(input: { name: "${NAME}", userId: "1", details: "e2e caching" }) {
    __typename
    ... on AddEventSuccess { event { id name userId } }
    ... on ServiceUnavailable { message retryAfter circuitState }
    ... on InvalidInput { message field }
  }
}`;

test('GraphiQL: query, addEvent from the editor, query again, and the result pane shows the new event', async () => {
  const page = await env.browser.newPage();
  const failed = [];
  const answers = [];
  page.on('requestfailed', (r) => failed.push(r.url()));
  page.on('pageerror', (e) => failed.push('page error: ' + e.message));
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === '/graphql') {
      answers.push({ method: r.request().method(), status: r.status(), cacheControl: r.headers()['cache-control'] });
    }
  });
  await page.goto(env.gw.url + '/', { waitUntil: 'load' });
  await page.waitForSelector('.graphiql-container', { timeout: 30000 });
  await page.waitForFunction(() => document.querySelector('.graphiql-query-editor .CodeMirror')?.CodeMirror, null, { timeout: 30000 });

  const resultText = () => page.textContent('.result-window');
  // Sets the editor, runs it, and waits until the result pane shows an
  // answer that every string in want is part of.
  const run = async (doc, want) => {
    await page.evaluate((q) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(q), doc);
    await page.click('.graphiql-execute-button');
    await page.waitForFunction((w) => {
      const text = document.querySelector('.result-window')?.textContent || '';
      return w.every((s) => text.includes(s));
    }, want, { timeout: 30000 });
    return resultText();
  };

  const start = Date.now();
  const before = await run(QUERY, ['john_doe', 'Workshop']);
  assert.match(before, /event-1/);
  assert.doesNotMatch(before, new RegExp(NAME));

  const added = await run(MUTATION, ['AddEventSuccess', NAME]);
  const id = added.match(/"id":\s*"(event-[^"]+)"/)?.[1];
  assert.ok(id, 'no event id in the mutation result: ' + added);

  const afterText = await run(QUERY, ['john_doe', id]);
  // All three ran inside the entity cache's fresh age (5 s): only the
  // write's invalidation can explain the new event.
  const elapsed = Date.now() - start;
  assert.ok(elapsed < FRESH_MS, `took ${elapsed} ms, longer than the fresh age: this proves nothing`);
  assert.match(afterText, new RegExp(NAME));
  assert.doesNotMatch(afterText, /AddEventSuccess/);
  assert.ok(afterText.indexOf('event-3') < afterText.indexOf(id), 'the new event is not last in the list');

  await screenshot(page, 'graphiql-after-mutation.png');
  assert.deepEqual(failed, [], 'requests failed or page errors: ' + failed.join(', '));

  // GraphiQL POSTs every operation (introspection included): no answer may
  // be kept by the browser.
  assert.ok(answers.length >= 3, `saw ${answers.length} /graphql answers`);
  for (const a of answers) {
    assert.equal(a.method, 'POST');
    assert.equal(a.status, 200);
    assert.equal(a.cacheControl, 'no-store');
  }
});


// The browser's own HTTP cache must not hide a write: GET answers are
// revalidated (no-cache + ETag), so the same GETs after a mutation, from the
// same page, show the new event. (A max-age would let Chromium answer them
// from its cache without asking the gateway.)
test('Chromium: GET reads after a mutation from the same page show the new event', async () => {
  const page = await env.browser.newPage();
  await page.goto(env.gw.url + '/healthz', { waitUntil: 'load' });
  const result = await page.evaluate(async () => {
    const gql = '/graphql?query=' + encodeURIComponent('{ user(id: "2") { events { id } } }');
    const read = async () => {
      const a = await fetch(gql, { headers: { 'Apollo-Require-Preflight': 'true' } }).then((r) => r.text());
      const b = await fetch('/getEventsByUserId/2').then((r) => r.text());
      return [a, b];
    };
    const before = await read();
    await read(); // now in the browser's cache, if it may keep it
    const added = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { addEvent(input: {name: "Browser", userId: "2"}) { ... on AddEventSuccess { event { id } } } }' }),
    }).then((r) => r.json());
    const after = await read();
    return { before, after, id: added.data.addEvent.event.id };
  });
  for (const body of result.before) assert.ok(!body.includes(result.id), 'the new event before its write');
  for (const body of result.after) assert.ok(body.includes(result.id), `GET after the write misses ${result.id}: ${body}`);
});

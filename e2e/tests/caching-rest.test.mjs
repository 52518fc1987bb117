// Issue 12: plain fetch, as REST callers and hand-written clients use it,
// against the gateway's HTTP caching: an ETag on reads, 304 Not Modified on
// If-None-Match, and a write through the gateway that changes the answer
// changes the ETag at once (the entity cache forgets what the write changed).
//
// This file's server sees 2 addEvent calls, inside the simulator's 5
// successes (calls 6–15 of every 15 fail).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../helpers.mjs';

let gw;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.stop(); });

const FRESH_MS = 5000; // CACHE_FRESH_TTL's default
const get = (path, headers = {}) => fetch(gw.url + path, { headers });

test('GET /getEventsByUserId/1: ETag, 304 on If-None-Match, and after POST /addEvent a 200 with the new event and a new ETag', async () => {
  const start = Date.now();
  const first = await get('/getEventsByUserId/1');
  assert.equal(first.status, 200);
  assert.deepEqual((await first.json()).map((e) => e.id), ['event-1', 'event-3']);
  const etag = first.headers.get('etag');
  // Weak (W/"…") when the request lets the gateway compress the answer, as
  // Node's fetch does (docs/api.md); strong otherwise.
  assert.match(etag, /^(W\/)?"[^"]+"$/, 'an ETag');
  assert.match(first.headers.get('cache-control'), /^no-cache$/);

  const same = await get('/getEventsByUserId/1', { 'If-None-Match': etag });
  assert.equal(same.status, 304);
  assert.equal(await same.text(), '', 'a 304 has no body');
  assert.equal(same.headers.get('etag'), etag);
  assert.match(same.headers.get('cache-control'), /^no-cache$/);
  // If-None-Match takes a list, and compares weakly.
  assert.equal((await get('/getEventsByUserId/1', { 'If-None-Match': `"other", W/${etag.replace(/^W\//, '')}` })).status, 304);
  assert.equal((await get('/getEventsByUserId/1', { 'If-None-Match': '"other"' })).status, 200);

  const post = await fetch(gw.url + '/addEvent', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'REST read-your-writes', userId: '1', details: 'e2e caching' }),
  });
  assert.equal(post.status, 200);
  assert.equal(post.headers.get('cache-control'), 'no-store');
  const created = (await post.json()).event;
  assert.equal(created.userId, '1');

  const changed = await get('/getEventsByUserId/1', { 'If-None-Match': etag });
  const elapsed = Date.now() - start;
  assert.ok(elapsed < FRESH_MS, `took ${elapsed} ms, longer than the fresh age: this proves nothing`);
  assert.equal(changed.status, 200, 'the old ETag still matched after the write');
  const events = await changed.json();
  assert.deepEqual(events.map((e) => e.id), ['event-1', 'event-3', created.id]);
  assert.deepEqual(events[2], created);
  const etag2 = changed.headers.get('etag');
  assert.match(etag2, /^(W\/)?"[^"]+"$/);
  assert.notEqual(etag2, etag);
  assert.equal(changed.headers.get('warning'), null, 'the answer after the write says it is stale');

  assert.equal((await get('/getEventsByUserId/1', { 'If-None-Match': etag2 })).status, 304);
});

test('GET /graphql with plain fetch: ETag, 304 on If-None-Match, and a new ETag after the addEvent mutation', async () => {
  const headers = { 'apollo-require-preflight': 'true', accept: 'application/graphql-response+json' };
  const url = gw.url + '/graphql?query=' + encodeURIComponent('query($id: ID!) { user(id: $id) { events { id name } } }') +
    '&variables=' + encodeURIComponent(JSON.stringify({ id: '3' }));

  const first = await fetch(url, { headers });
  assert.equal(first.status, 200);
  assert.deepEqual((await first.json()).data.user.events.map((e) => e.id), ['event-4']);
  const etag = first.headers.get('etag');
  assert.match(etag, /^(W\/)?"[^"]+"$/);
  assert.match(first.headers.get('cache-control'), /^no-cache$/);
  assert.match(first.headers.get('vary'), /\bAccept\b/i);

  const same = await fetch(url, { headers: { ...headers, 'If-None-Match': etag } });
  assert.equal(same.status, 304);
  assert.equal(await same.text(), '');

  const mutation = await fetch(gw.url + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({
      query: 'mutation($input: AddEventInput!) { addEvent(input: $input) { __typename ... on AddEventSuccess { event { id } } } }',
      variables: { input: { name: 'fetch over GET', userId: '3' } },
    }),
  });
  assert.equal(mutation.headers.get('cache-control'), 'no-store');
  const { data } = await mutation.json();
  assert.equal(data.addEvent.__typename, 'AddEventSuccess');

  const changed = await fetch(url, { headers: { ...headers, 'If-None-Match': etag } });
  assert.equal(changed.status, 200, 'the old ETag still matched after the write');
  assert.deepEqual((await changed.json()).data.user.events.map((e) => e.id), ['event-4', data.addEvent.event.id]);
  assert.notEqual(changed.headers.get('etag'), etag);
});

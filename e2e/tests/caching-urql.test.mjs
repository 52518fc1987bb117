// Issue 12: urql keeps working with the gateway's caches. A write through
// the gateway shows in the next network-only read at once, over POST and
// over GET (urql's default for short queries), and GET answers carry
// Cache-Control and an ETag.
//
// This file's server sees 2 addEvent calls, inside the simulator's 5
// successes (calls 6–15 of every 15 fail).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, cacheExchange, fetchExchange, gql } from '@urql/core';
import { startGateway, metrics, recordingFetch } from '../helpers.mjs';

let gw;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.stop(); });

const FRESH_MS = 5000; // CACHE_FRESH_TTL's default

const USER_EVENTS = gql`
  query UserEvents($id: ID!) { user(id: $id) { id events { id name userId } } }
`;
const ADD = gql`
  mutation Add($input: AddEventInput!) {
    addEvent(input: $input) {
      __typename
      ... on AddEventSuccess { event { id name userId } }
      ... on ServiceUnavailable { message retryAfter circuitState }
      ... on InvalidInput { message field }
    }
  }
`;

// urql's document cache and its fetch exchange, as an app would have them;
// the gateway's CSRF prevention wants a preflight header on GET.
function client() {
  const rec = recordingFetch();
  const urql = new Client({
    url: gw.url + '/graphql',
    exchanges: [cacheExchange, fetchExchange],
    fetch: rec.fetch,
    fetchOptions: { headers: { 'apollo-require-preflight': 'true' } },
  });
  return { urql, rec };
}

async function query(urql, id, context) {
  const res = await urql.query(USER_EVENTS, { id }, context).toPromise();
  assert.equal(res.error, undefined, `query failed: ${res.error}`);
  return res;
}

async function addEvent(urql, input) {
  const res = await urql.mutation(ADD, { input }).toPromise();
  assert.equal(res.error, undefined, `mutation failed: ${res.error}`);
  const r = res.data.addEvent;
  assert.equal(r.__typename, 'AddEventSuccess', `addEvent answered ${JSON.stringify(r)}`);
  assert.match(r.event.id, /^event-/);
  assert.equal(r.event.userId, input.userId);
  return r.event;
}

// The repeat is answered whole from the response cache (it holds user 1
// and its events, fresh); the write purges that answer.
const ANSWER_HITS = 'gateway_response_cache_lookups_total{result="hit"}';

test('urql: a network-only query right after addEvent shows the new event (read-your-writes through the response and entity caches)', async () => {
  const { urql, rec } = client();
  const post = { preferGetMethod: false };
  const start = Date.now();

  const first = await query(urql, '1', post);
  assert.deepEqual(first.data.user.events.map((e) => e.id), ['event-1', 'event-3']);
  const hitsBefore = (await metrics(gw.url))[ANSWER_HITS] ?? 0;
  const repeat = await query(urql, '1', { ...post, requestPolicy: 'network-only' });
  assert.deepEqual(repeat.data.user.events.map((e) => e.id), ['event-1', 'event-3']);
  assert.ok((await metrics(gw.url))[ANSWER_HITS] > hitsBefore, 'the repeated query was not answered from the response cache');

  const added = await addEvent(urql, { name: 'urql read-your-writes', userId: '1', details: 'e2e caching' });

  const after = await query(urql, '1', { ...post, requestPolicy: 'network-only' });
  const elapsed = Date.now() - start;
  assert.ok(elapsed < FRESH_MS, `took ${elapsed} ms, longer than the fresh age: this proves nothing`);
  assert.deepEqual(after.data.user.events.map((e) => e.id), ['event-1', 'event-3', added.id]);
  assert.equal(after.data.user.events[2].name, 'urql read-your-writes');
  assert.equal(after.extensions?.cache, undefined, 'the answer after the write says it is stale');
  assert.equal(after.operation.context.requestPolicy, 'network-only');

  assert.deepEqual([...new Set(rec.seen.map((s) => s.method))], ['POST']);
  for (const s of rec.seen) assert.equal(s.headers.get('cache-control'), 'no-store');
});

test('urql over GET (preferGetMethod): Cache-Control and ETag on queries, and read-your-writes', async () => {
  const { urql, rec } = client();
  const get = { preferGetMethod: 'force' };

  const first = await query(urql, '2', get);
  assert.deepEqual(first.data.user.events.map((e) => e.id), ['event-2']);
  const a = rec.last();
  assert.equal(a.method, 'GET');
  assert.match(a.url, /\/graphql\?.*query=/);
  assert.equal(a.status, 200);
  assert.match(a.headers.get('cache-control'), /^no-cache$/);
  assert.match(a.headers.get('etag'), /^(W\/)?"[^"]+"$/);
  assert.match(a.headers.get('vary'), /\bAccept\b/i);

  // urql's document cache answers a cache-first repeat itself.
  const sent = rec.seen.length;
  const cached = await query(urql, '2', get);
  assert.equal(rec.seen.length, sent, 'a cache-first repeat reached the network');
  assert.deepEqual(cached.data, first.data);

  const added = await addEvent(urql, { name: 'urql over GET', userId: '2', details: 'e2e caching' });
  assert.equal(rec.last().method, 'POST');
  assert.equal(rec.last().headers.get('cache-control'), 'no-store');

  const after = await query(urql, '2', { ...get, requestPolicy: 'network-only' });
  assert.deepEqual(after.data.user.events.map((e) => e.id), ['event-2', added.id]);
  const b = rec.last();
  assert.equal(b.method, 'GET');
  assert.equal(b.url, a.url, 'the same query is the same URL');
  assert.match(b.headers.get('cache-control'), /^no-cache$/);
  assert.notEqual(b.headers.get('etag'), a.headers.get('etag'), 'the write did not change the ETag');
});

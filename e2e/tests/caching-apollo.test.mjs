// Issue 12: Apollo Client keeps working with the gateway's caches. A write
// through the gateway shows in the next network-only read at once, although
// the entity cache had the old answer and it was still fresh (5 s); GET
// queries carry Cache-Control and an ETag, mutations are never stored.
//
// This file's server sees 2 addEvent calls, inside the simulator's 5
// successes (calls 6–15 of every 15 fail).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, InMemoryCache, HttpLink, gql } from '@apollo/client';
import { startGateway, metrics, recordingFetch } from '../helpers.mjs';

let gw;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.stop(); });

const possibleTypes = { AddEventResult: ['AddEventSuccess', 'ServiceUnavailable', 'InvalidInput'] };
const FRESH_MS = 5000; // CACHE_FRESH_TTL's default

const USER_EVENTS = gql`
  query UserEvents($id: ID!) { user(id: $id) { id userName events { id name details } } }
`;
const USER_EMAIL = gql`
  query UserEmail($id: ID!) { user(id: $id) { id email } }
`;
const ADD = gql`
  mutation Add($input: AddEventInput!) {
    addEvent(input: $input) {
      __typename
      ... on AddEventSuccess { event { id name userId details } }
      ... on ServiceUnavailable { message retryAfter circuitState }
      ... on InvalidInput { message field }
    }
  }
`;

function client(linkOptions = {}) {
  const rec = recordingFetch();
  const apollo = new ApolloClient({
    link: new HttpLink({ uri: gw.url + '/graphql', fetch: rec.fetch, ...linkOptions }),
    cache: new InMemoryCache({ possibleTypes }),
  });
  return { apollo, rec };
}

async function addEvent(apollo, input) {
  const { data } = await apollo.mutate({ mutation: ADD, variables: { input } });
  const r = data.addEvent;
  assert.equal(r.__typename, 'AddEventSuccess', `addEvent answered ${JSON.stringify(r)}`);
  assert.match(r.event.id, /^event-/);
  assert.equal(r.event.userId, input.userId);
  assert.equal(r.event.name, input.name);
  return r.event;
}

// The repeat is answered whole from the response cache (it holds user 1
// and its events, fresh); the write purges that answer.
const ANSWER_HITS = 'gateway_response_cache_lookups_total{result="hit"}';

test('Apollo: a network-only query right after addEvent shows the new event (read-your-writes through the response and entity caches)', async () => {
  const { apollo, rec } = client();
  const start = Date.now();

  const first = await apollo.query({ query: USER_EVENTS, variables: { id: '1' } });
  assert.deepEqual(first.data.user.events.map((e) => e.id), ['event-1', 'event-3']);

  // The gateway now holds the answer, built from fresh entities: a repeat is a hit.
  const hitsBefore = (await metrics(gw.url))[ANSWER_HITS] ?? 0;
  const repeat = await apollo.query({ query: USER_EVENTS, variables: { id: '1' }, fetchPolicy: 'network-only' });
  assert.deepEqual(repeat.data.user.events.map((e) => e.id), ['event-1', 'event-3']);
  assert.ok((await metrics(gw.url))[ANSWER_HITS] > hitsBefore, 'the repeated query was not answered from the response cache');

  const added = await addEvent(apollo, { name: 'Apollo read-your-writes', userId: '1', details: 'e2e caching' });

  const after = await apollo.query({ query: USER_EVENTS, variables: { id: '1' }, fetchPolicy: 'network-only' });
  const elapsed = Date.now() - start;
  // Everything ran inside the entity cache's fresh age: only the write's
  // invalidation can explain the new event.
  assert.ok(elapsed < FRESH_MS, `took ${elapsed} ms, longer than the fresh age: this proves nothing`);
  assert.deepEqual(after.data.user.events.map((e) => e.id), ['event-1', 'event-3', added.id]);
  assert.deepEqual(after.data.user.events[2], { __typename: 'Event', id: added.id, name: added.name, details: added.details });
  assert.equal(JSON.parse(rec.last().body).extensions?.cache, undefined, 'the answer after the write says it is stale');

  // Apollo's own normalised cache follows: User:1's list holds the new event.
  const cached = apollo.cache.extract();
  assert.deepEqual(cached['User:1'].events.map((ref) => ref.__ref), ['Event:event-1', 'Event:event-3', `Event:${added.id}`]);
  assert.equal(cached[`Event:${added.id}`].name, added.name);

  // Every request was a POST, and POST answers are never stored.
  assert.deepEqual([...new Set(rec.seen.map((s) => s.method))], ['POST']);
  for (const s of rec.seen) {
    assert.equal(s.status, 200);
    assert.equal(s.headers.get('cache-control'), 'no-store', `${s.method} ${s.url}`);
    assert.equal(s.headers.get('etag'), null);
  }
});

test('Apollo over GET (useGETForQueries): Cache-Control and ETag on queries, no-store on the POSTed mutation, and read-your-writes', async () => {
  const { apollo, rec } = client({ useGETForQueries: true, headers: { 'apollo-require-preflight': 'true' } });

  const first = await apollo.query({ query: USER_EVENTS, variables: { id: '2' } });
  assert.deepEqual(first.data.user.events.map((e) => [e.id, e.name]), [['event-2', 'Music Festival']]);
  const get = rec.last();
  assert.equal(get.method, 'GET');
  assert.match(get.url, /\/graphql\?.*query=/);
  assert.equal(get.status, 200);
  // User and Event are 30 s, shortened to the entity cache's freshness.
  assert.match(get.headers.get('cache-control'), /^no-cache$/);
  assert.match(get.headers.get('etag'), /^(W\/)?"[^"]+"$/);
  assert.match(get.headers.get('vary'), /\bAccept\b/i);

  // User.email is PRIVATE: the answer holding it is private.
  const email = await apollo.query({ query: USER_EMAIL, variables: { id: '2' } });
  assert.equal(email.data.user.email, 'jane@example.com');
  assert.equal(rec.last().method, 'GET');
  assert.match(rec.last().headers.get('cache-control'), /^private, no-cache$/);

  // Mutations go over POST even with useGETForQueries, and are never stored.
  const added = await addEvent(apollo, { name: 'Apollo over GET', userId: '2', details: 'e2e caching' });
  assert.equal(rec.last().method, 'POST');
  assert.equal(rec.last().headers.get('cache-control'), 'no-store');

  const after = await apollo.query({ query: USER_EVENTS, variables: { id: '2' }, fetchPolicy: 'network-only' });
  assert.deepEqual(after.data.user.events.map((e) => e.id), ['event-2', added.id]);
  const again = rec.last();
  assert.equal(again.method, 'GET');
  assert.equal(again.url, get.url, 'the same query is the same URL');
  assert.match(again.headers.get('cache-control'), /^no-cache$/);
  assert.notEqual(again.headers.get('etag'), get.headers.get('etag'), 'the write did not change the ETag');
});

// Issue 25: operation batching as Apollo Client's BatchHttpLink does it:
// the operations issued within batchInterval go as one POST of a JSON
// array, and each gets its own entry of the array answered. The gateway
// runs a batch's queries on the request's loaders, so a batch costs no more
// upstream calls than one request asking for the same things; a batch
// holding a mutation runs in order; more than MAX_BATCH_SIZE (10)
// operations is refused whole.
//
// The gateway runs with CACHE=off, so every lookup a request makes reaches
// the upstream and gateway_upstream_calls_total counts what each costs.
// This file's server sees 1 addEvent call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, InMemoryCache, gql } from '@apollo/client';
import { BatchHttpLink } from '@apollo/client/link/batch-http';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { startGateway, metrics } from '../helpers.mjs';

let gw;
let apollo;
const posts = []; // each HTTP request BatchHttpLink made: its body, parsed

before(async () => {
  gw = await startGateway({ CACHE: 'off' });
  const counting = async (input, init = {}) => {
    posts.push(JSON.parse(init.body));
    return fetch(input, init);
  };
  apollo = new ApolloClient({
    link: new BatchHttpLink({ uri: gw.url + '/graphql', batchMax: 5, batchInterval: 20, fetch: counting }),
    cache: new InMemoryCache({ possibleTypes: { AddEventResult: ['AddEventSuccess', 'ServiceUnavailable', 'InvalidInput'] } }),
  });
});
after(async () => { await gw?.stop(); });

const USER = gql`query User($id: ID!) { user(id: $id) { id userName events { id name } } }`;
const EVENT = gql`query Event($id: ID!) { event(id: $id) { id name userId } }`;

// Five queries a screen might issue at once: three users with their events,
// and two events that are also among those users' events (event-1 is user
// 1's, event-2 user 2's), so that a batch on shared loaders looks each up
// once.
const FIVE = [
  { query: USER, variables: { id: '1' } },
  { query: USER, variables: { id: '2' } },
  { query: USER, variables: { id: '3' } },
  { query: EVENT, variables: { id: 'event-1' } },
  { query: EVENT, variables: { id: 'event-2' } },
];
// The same five as one request: one operation, aliased fields.
const FIVE_ALIASED = `{
  u1: user(id: "1") { id userName events { id name } }
  u2: user(id: "2") { id userName events { id name } }
  u3: user(id: "3") { id userName events { id name } }
  e1: event(id: "event-1") { id name userId }
  e2: event(id: "event-2") { id name userId }
}`;

const GRAPHQL_POSTS_OK = 'gateway_http_requests_total{method="POST",route="/graphql",status="200"}';

// Upstream calls (getUserById and getEventById, every outcome) so far.
async function upstreamCalls() {
  const m = await metrics(gw.url);
  return Object.entries(m).filter(([k]) => k.startsWith('gateway_upstream_calls_total{') && /route="get(UserById|EventById)"/.test(k))
    .reduce((sum, [, v]) => sum + v, 0);
}

// Upstream calls and HTTP requests that fn costs.
async function cost(fn) {
  const [calls, requests] = [await upstreamCalls(), (await metrics(gw.url))[GRAPHQL_POSTS_OK]];
  const result = await fn();
  return { result, calls: (await upstreamCalls()) - calls, requests: (await metrics(gw.url))[GRAPHQL_POSTS_OK] - requests };
}

function runFive() {
  return Promise.all(FIVE.map((op) => apollo.query({ ...op, fetchPolicy: 'network-only' })));
}

async function postJSON(body) {
  const res = await fetch(gw.url + '/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

test('BatchHttpLink: five queries issued together are one HTTP request, each query with its own result', async () => {
  posts.length = 0;
  const { result, requests } = await cost(runFive);

  assert.equal(posts.length, 1, 'BatchHttpLink sent one request');
  assert.ok(Array.isArray(posts[0]) && posts[0].length === 5, `its body: ${JSON.stringify(posts[0])}`);
  assert.equal(requests, 1, 'the gateway answered one POST /graphql');

  const [u1, u2, u3, e1, e2] = result.map((r) => r.data);
  assert.equal(u1.user.userName, 'john_doe');
  assert.deepEqual(u1.user.events.map((e) => e.id), ['event-1', 'event-3']);
  assert.equal(u2.user.userName, 'jane_smith');
  assert.deepEqual(u2.user.events.map((e) => e.id), ['event-2']);
  assert.deepEqual(u3.user.events.map((e) => e.id), ['event-4']);
  assert.deepEqual(e1.event, { __typename: 'Event', id: 'event-1', name: 'Tech Conference', userId: '1' });
  assert.deepEqual(e2.event, { __typename: 'Event', id: 'event-2', name: 'Music Festival', userId: '2' });
  for (const r of result) assert.equal(r.error, undefined);
});

test('a batch costs no more upstream calls than one request asking the same, and fewer than five requests', async () => {
  const batch = await cost(runFive);
  const aliased = await cost(() => postJSON({ query: FIVE_ALIASED }));
  assert.equal(aliased.result.status, 200);
  assert.equal(aliased.result.body.errors, undefined, JSON.stringify(aliased.result.body));
  const five = await cost(async () => {
    for (const op of FIVE) await postJSON({ query: op.query.loc.source.body, variables: op.variables });
  });

  // 3 users + their 4 distinct events (event-1 and event-2 asked twice).
  assert.equal(aliased.calls, 7, `one request: ${aliased.calls} upstream calls`);
  assert.ok(batch.calls <= aliased.calls, `batch: ${batch.calls} upstream calls, one request: ${aliased.calls}`);
  assert.equal(batch.requests, 1);
  // Five requests look event-1 and event-2 up twice each.
  assert.equal(five.calls, 9, `five requests: ${five.calls} upstream calls`);
  assert.equal(five.requests, 5);
});

test('a mutation in a batch: one request, run in order (a query after it sees the write), its result with the others', async () => {
  posts.length = 0;
  const ADD = gql`
    mutation Add($input: AddEventInput!) {
      addEvent(input: $input) { __typename ... on AddEventSuccess { event { id name userId } } }
    }
  `;
  const before = apollo.query({ query: USER, variables: { id: '3' }, fetchPolicy: 'network-only' });
  const added = apollo.mutate({ mutation: ADD, variables: { input: { name: 'Batched launch', userId: '3', details: 'e2e batch' } } });
  const event = apollo.query({ query: EVENT, variables: { id: 'event-4' }, fetchPolicy: 'network-only' });
  const AFTER = gql`query UserAfter($id: ID!) { user(id: $id) { id events { id } } }`;
  const afterQ = apollo.query({ query: AFTER, variables: { id: '3' }, fetchPolicy: 'network-only' });
  const [b, a, e, af] = await Promise.all([before, added, event, afterQ]);

  assert.equal(posts.length, 1, 'one request for the four');
  assert.deepEqual(posts[0].map((op) => op.operationName), ['User', 'Add', 'Event', 'UserAfter']);
  assert.equal(a.data.addEvent.__typename, 'AddEventSuccess', JSON.stringify(a.data));
  const id = a.data.addEvent.event.id;
  assert.match(id, /^event-/);
  // The query before the mutation ran before it: the new event is not
  // there; the one after it ran after it, and sees the event.
  assert.deepEqual(b.data.user.events.map((x) => x.id), ['event-4']);
  assert.equal(e.data.event.name, 'Meetup');
  assert.deepEqual(af.data.user.events.map((x) => x.id), ['event-4', id]);
});

test("an operation with an error gets it in its own entry; the batch's others have their data", async () => {
  posts.length = 0;
  const BAD = gql`query Bad { user(id: "1") { id age } }`;
  const [good, bad] = await Promise.allSettled([
    apollo.query({ query: USER, variables: { id: '2' }, fetchPolicy: 'network-only' }),
    apollo.query({ query: BAD, fetchPolicy: 'network-only' }),
  ]);
  assert.equal(posts.length, 1);
  assert.equal(good.status, 'fulfilled');
  assert.equal(good.value.data.user.userName, 'jane_smith');
  assert.equal(bad.status, 'rejected');
  assert.ok(CombinedGraphQLErrors.is(bad.reason), `${bad.reason}`);
  assert.match(bad.reason.errors[0].message, /age/);
});

test('MAX_BATCH_SIZE (10): a batch of 10 runs, a batch of 11 is refused whole with 400 BATCH_TOO_LARGE', async () => {
  const op = (i) => ({ query: 'query E($id: ID!) { event(id: $id) { id } }', variables: { id: `event-${(i % 4) + 1}` } });
  const ten = await postJSON(Array.from({ length: 10 }, (_, i) => op(i)));
  assert.equal(ten.status, 200);
  assert.equal(ten.body.length, 10);
  assert.deepEqual(ten.body.map((r) => r.data.event.id), Array.from({ length: 10 }, (_, i) => `event-${(i % 4) + 1}`));

  const eleven = await cost(() => postJSON(Array.from({ length: 11 }, (_, i) => op(i))));
  assert.equal(eleven.result.status, 400);
  assert.equal(eleven.result.body.errors[0].extensions.code, 'BATCH_TOO_LARGE');
  assert.match(eleven.result.body.errors[0].message, /11 operations; at most 10 \(MAX_BATCH_SIZE\)/);
  assert.equal(eleven.calls, 0, 'nothing of a refused batch runs');
});

// Issue 14: @defer over multipart/mixed, as Apollo Client and urql receive
// it: the user's name first, then the events when the upstream has answered.
// No addEvent calls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, HttpLink, InMemoryCache, NetworkStatus, gql } from '@apollo/client';
import { Defer20220824Handler } from '@apollo/client/incremental';
import { Client, fetchExchange } from '@urql/core';
import { startGateway } from '../helpers.mjs';

let gw;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.stop(); });

const DEFERRED = '{ user(id: "1") { userName ... @defer { events { id name } } } }';
const EVENTS = [{ id: 'event-1', name: 'Tech Conference' }, { id: 'event-3', name: 'Workshop' }];

// A fetch that notes each request's Accept and each answer's media type,
// without reading the body (that would wait for the last part).
function notingFetch() {
  const seen = [];
  const wrapped = async (input, init = {}) => {
    const res = await fetch(input, init);
    seen.push({ accept: new Headers(init.headers).get('accept'), contentType: res.headers.get('content-type'), status: res.status });
    return res;
  };
  return { fetch: wrapped, seen };
}

test('Apollo Client (HttpLink, Defer20220824Handler): the name first, then the events', async () => {
  const rec = notingFetch();
  // Apollo Client 4 needs the incremental protocol named; 3.7+ had it built in.
  const apollo = new ApolloClient({
    link: new HttpLink({ uri: gw.url + '/graphql', fetch: rec.fetch }),
    cache: new InMemoryCache(),
    incrementalHandler: new Defer20220824Handler(),
  });
  const results = [];
  await new Promise((resolve, reject) => {
    const sub = apollo.watchQuery({ query: gql(DEFERRED), fetchPolicy: 'network-only' }).subscribe({
      next: (r) => {
        if (r.error) return reject(r.error);
        if (r.data) results.push({ networkStatus: r.networkStatus, loading: r.loading, data: structuredClone(r.data) });
        if (!r.loading) { sub.unsubscribe(); resolve(); }
      },
      error: reject,
    });
  });

  assert.equal(rec.seen.length, 1, 'one request for both parts');
  assert.match(rec.seen[0].accept, /multipart\/mixed;\s*deferSpec=20220824/);
  assert.match(rec.seen[0].contentType, /^multipart\/mixed/);

  assert.ok(results.length >= 2, `saw ${results.length} result(s): ${JSON.stringify(results)}`);
  const [first] = results;
  const last = results[results.length - 1];
  // The first part: still loading, streaming, the name without the events.
  assert.equal(first.networkStatus, NetworkStatus.streaming);
  assert.equal(first.loading, true);
  assert.equal(first.data.user.userName, 'john_doe');
  assert.equal(first.data.user.events ?? undefined, undefined, `first result: ${JSON.stringify(first.data)}`);
  // The last: everything.
  assert.equal(last.networkStatus, NetworkStatus.ready);
  assert.deepEqual(last.data.user, { __typename: 'User', userName: 'john_doe', events: EVENTS.map((e) => ({ __typename: 'Event', ...e })) });
});

test("urql (fetchExchange's incremental delivery): the name first, then the events", async () => {
  const rec = notingFetch();
  const urql = new Client({ url: gw.url + '/graphql', exchanges: [fetchExchange], fetch: rec.fetch, preferGetMethod: false });
  const results = [];
  await new Promise((resolve, reject) => {
    const sub = urql.query(DEFERRED, {}).subscribe((r) => {
      if (r.error) return reject(r.error);
      results.push({ hasNext: r.hasNext, data: structuredClone(r.data) });
      if (!r.hasNext) { queueMicrotask(() => sub.unsubscribe()); resolve(); }
    });
  });

  assert.equal(rec.seen.length, 1);
  assert.match(rec.seen[0].accept, /multipart\/mixed/);
  assert.match(rec.seen[0].contentType, /^multipart\/mixed/);

  assert.ok(results.length >= 2, `saw ${results.length} result(s): ${JSON.stringify(results)}`);
  const [first] = results;
  const last = results[results.length - 1];
  assert.equal(first.hasNext, true);
  assert.equal(first.data.user.userName, 'john_doe');
  assert.equal(first.data.user.events ?? undefined, undefined, `first result: ${JSON.stringify(first.data)}`);
  assert.equal(last.hasNext, false);
  assert.deepEqual(last.data.user, { userName: 'john_doe', events: EVENTS });
});

// What the incremental delivery RFC (2022-08-24, the deferSpec clients ask
// for) says of the first part: a deferred fragment's fields are not in it.
// gqlgen's MultipartMixed transport sends them as null instead
// ("events": null), which a client cannot tell from the events having
// failed (the schema's meaning of a null User.events), and which Apollo
// Client 4 takes as complete data: its first result says dataState
// "complete" while the query is still streaming. A gateway issue, pinned
// here until it is fixed.
test('the first multipart part leaves the deferred fields out', { todo: 'gqlgen sends "events": null in the first part' }, async () => {
  const res = await fetch(gw.url + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'multipart/mixed;deferSpec=20220824, application/json' },
    body: JSON.stringify({ query: DEFERRED }),
  });
  const boundary = /boundary="?([^";]+)"?/.exec(res.headers.get('content-type'))[1];
  const parts = (await res.text()).split(`--${boundary}`).map((p) => p.split('\r\n\r\n')[1]).filter((p) => p?.trim().startsWith('{'));
  const first = JSON.parse(parts[0]);
  assert.equal(first.hasNext, true);
  assert.equal(first.data.user.userName, 'john_doe');
  assert.ok(!('events' in first.data.user), `first part: ${JSON.stringify(first)}`);

  const apollo = new ApolloClient({
    link: new HttpLink({ uri: gw.url + '/graphql' }),
    cache: new InMemoryCache(),
    incrementalHandler: new Defer20220824Handler(),
  });
  const states = await new Promise((resolve, reject) => {
    const seen = [];
    const sub = apollo.watchQuery({ query: gql(DEFERRED), fetchPolicy: 'network-only' }).subscribe({
      next: (r) => {
        if (r.data) seen.push(r.dataState);
        if (!r.loading) { sub.unsubscribe(); resolve(seen); }
      },
      error: reject,
    });
  });
  assert.deepEqual(states, ['streaming', 'complete']);
});

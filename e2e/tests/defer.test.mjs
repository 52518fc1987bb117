// Issues 14 and 25: @defer as Apollo Client and urql receive it: the user's
// name first, then the events when the upstream has answered. The first
// part holds no deferred field (not even as null), in both formats the
// gateway speaks, chosen by the client's Accept: deferSpec=20220824 (Apollo
// Client's Defer20220824Handler, urql) and incrementalSpec=v0.2 (Apollo
// Client 4's GraphQL17Alpha9Handler, graphql-js 17.0.0-alpha.9).
// No addEvent calls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, HttpLink, InMemoryCache, NetworkStatus, gql } from '@apollo/client';
import { Defer20220824Handler, GraphQL17Alpha9Handler } from '@apollo/client/incremental';
import { Client, fetchExchange } from '@urql/core';
import { startGateway, teeFetch, afterQueuedWork } from '../helpers.mjs';

let gw;
let slow; // its event lookups take 1 s, uncached: the parts are far apart in time
before(async () => { [gw, slow] = await Promise.all([startGateway(), startGateway({ SIM_EVENT_DELAY: '1s', CACHE: 'off' })]); });
after(async () => { await Promise.all([gw?.stop(), slow?.stop()]); });

const DEFERRED = '{ user(id: "1") { userName ... @defer { events { id name } } } }';
const EVENTS = [{ id: 'event-1', name: 'Tech Conference' }, { id: 'event-3', name: 'Workshop' }];

// A fetch that notes each request's Accept and body and each answer's media
// type, without reading the answer (that would wait for the last part).
function notingFetch() {
  const seen = [];
  const wrapped = async (input, init = {}) => {
    const res = await fetch(input, init);
    seen.push({ accept: new Headers(init.headers).get('accept'), body: init.body, contentType: res.headers.get('content-type'), status: res.status });
    return res;
  };
  return { fetch: wrapped, seen };
}

// The JSON parts of a multipart/mixed body, in order, by its boundary.
function multipartParts(contentType, body) {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)[1];
  return body.split(`--${boundary}`).map((p) => p.split('\r\n\r\n')[1]).filter((p) => p?.trim().startsWith('{')).map((p) => JSON.parse(p));
}

// Watches DEFERRED through apollo until it stops loading, and returns each
// result that had data: its network status, loading, dataState and data.
function watchDeferred(apollo) {
  const results = [];
  return new Promise((resolve, reject) => {
    const sub = apollo.watchQuery({ query: gql(DEFERRED), fetchPolicy: 'network-only' }).subscribe({
      next: (r) => {
        if (r.error) return reject(r.error);
        if (r.data) results.push({ networkStatus: r.networkStatus, loading: r.loading, dataState: r.dataState, data: structuredClone(r.data) });
        if (!r.loading) { sub.unsubscribe(); resolve(results); }
      },
      error: reject,
    });
  });
}

// The name without the events, while still streaming; then everything.
function assertNameThenEvents(results) {
  assert.ok(results.length >= 2, `saw ${results.length} result(s): ${JSON.stringify(results)}`);
  const [first] = results;
  const last = results[results.length - 1];
  assert.equal(first.networkStatus, NetworkStatus.streaming);
  assert.equal(first.loading, true);
  assert.equal(first.data.user.userName, 'john_doe');
  assert.ok(!('events' in first.data.user), `first result: ${JSON.stringify(first.data)}`);
  assert.equal(last.networkStatus, NetworkStatus.ready);
  assert.deepEqual(last.data.user, { __typename: 'User', userName: 'john_doe', events: EVENTS.map((e) => ({ __typename: 'Event', ...e })) });
  assert.deepEqual(results.map((r) => r.dataState), ['streaming', 'complete']);
}

test('Apollo Client (HttpLink, Defer20220824Handler): the name first, then the events', async () => {
  const rec = notingFetch();
  // Apollo Client 4 needs the incremental protocol named; 3.7+ had it built in.
  const apollo = new ApolloClient({
    link: new HttpLink({ uri: gw.url + '/graphql', fetch: rec.fetch }),
    cache: new InMemoryCache(),
    incrementalHandler: new Defer20220824Handler(),
  });
  const results = await watchDeferred(apollo);

  assert.equal(rec.seen.length, 1, 'one request for both parts');
  assert.match(rec.seen[0].accept, /multipart\/mixed;\s*deferSpec=20220824/);
  assert.match(rec.seen[0].contentType, /^multipart\/mixed;.*deferSpec=20220824/);
  assertNameThenEvents(results);
});

// What the incremental delivery RFC (2022-08-24, the deferSpec clients ask
// for) says of the first part: a deferred fragment's fields are not in it.
// gqlgen's own multipart transport sent them as null ("events": null),
// which a client cannot tell from the events having failed (the schema's
// meaning of a null User.events), and which Apollo Client 4 took as
// complete data: its first result said dataState "complete" while the
// query was still streaming. This was pinned as a todo until issue 25.
test('the first multipart part leaves the deferred fields out', async () => {
  const res = await fetch(gw.url + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'multipart/mixed;deferSpec=20220824, application/json' },
    body: JSON.stringify({ query: DEFERRED }),
  });
  const parts = multipartParts(res.headers.get('content-type'), await res.text());
  const [first] = parts;
  assert.equal(first.hasNext, true);
  assert.equal(first.data.user.userName, 'john_doe');
  assert.ok(!('events' in first.data.user), `first part: ${JSON.stringify(first)}`);
  const last = parts[parts.length - 1];
  assert.equal(last.hasNext, false);
  assert.deepEqual(parts.slice(1).flatMap((p) => p.incremental ?? []), [{ data: { events: EVENTS }, path: ['user'] }]);

  const apollo = new ApolloClient({
    link: new HttpLink({ uri: gw.url + '/graphql' }),
    cache: new InMemoryCache(),
    incrementalHandler: new Defer20220824Handler(),
  });
  const states = (await watchDeferred(apollo)).map((r) => r.dataState);
  assert.deepEqual(states, ['streaming', 'complete']);
});

// GraphQL17Alpha9Handler asks with Accept "multipart/mixed;incrementalSpec=v0.2"
// (its prepareRequest, @apollo/client/incremental/handlers/graphql17Alpha9.js)
// and labels every @defer (addDeferFragmentLabels); it finds a deferred
// fragment again by the pending entry's path and label, and merges each
// incremental entry at the path of the pending entry its id names.
test('Apollo Client (HttpLink, GraphQL17Alpha9Handler): incrementalSpec=v0.2, the name first, then the events', async () => {
  const rec = notingFetch();
  const apollo = new ApolloClient({
    link: new HttpLink({ uri: gw.url + '/graphql', fetch: rec.fetch }),
    cache: new InMemoryCache(),
    incrementalHandler: new GraphQL17Alpha9Handler(),
  });
  const results = await watchDeferred(apollo);

  assert.equal(rec.seen.length, 1, 'one request for both parts');
  const [{ accept, contentType, body }] = rec.seen;
  assert.match(accept, /^multipart\/mixed;\s*incrementalSpec=v0\.2\s*,/);
  assert.match(contentType, /^multipart\/mixed;.*incrementalSpec=v0\.2/);
  assertNameThenEvents(results);

  // The v0.2 format, part by part, as the gateway answers the request
  // Apollo sent (its Accept and body, sent again).
  const res = await fetch(gw.url + '/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept }, body });
  assert.equal(res.headers.get('content-type'), contentType);
  const parts = multipartParts(contentType, await res.text());
  const [first, ...rest] = parts;
  assert.ok(!('events' in first.data.user), `first part: ${JSON.stringify(first)}`);
  assert.equal(first.hasNext, true);
  assert.equal(first.pending.length, 1, `first part: ${JSON.stringify(first)}`);
  const [{ id, path, label }] = first.pending;
  assert.deepEqual(path, ['user']);
  const sentLabel = /@defer\(label: "([^"]+)"\)/.exec(JSON.parse(body).query)?.[1];
  assert.ok(sentLabel, `Apollo labels the fragment: ${body}`);
  assert.equal(label, sentLabel, 'the label Apollo gave the fragment, echoed');
  const withTypename = EVENTS.map((e) => ({ ...e, __typename: 'Event' })); // Apollo asks for __typename
  assert.deepEqual(rest.flatMap((p) => p.incremental ?? []), [{ id, data: { events: withTypename } }]);
  assert.deepEqual(rest.flatMap((p) => p.completed ?? []), [{ id }]);
  assert.equal(rest[rest.length - 1].hasNext, false);
});

// urql's fetchExchange reads incremental delivery over multipart/mixed and
// over text/event-stream alike (fetchOperation in @urql/core's
// dist/urql-core-chunk.mjs), and merges a part by its path
// (deferSpec=20220824) or by its pending id (v0.2). Out of the box it asks
// with Accept "application/graphql-response+json, application/graphql+json,
// application/json, text/event-stream, multipart/mixed" (makeFetchOptions):
// the gateway answers the first stream type listed, SSE.
for (const { name, accept, contentType } of [
  { name: 'as configured out of the box: SSE, listed first', accept: undefined, contentType: /^text\/event-stream/ },
  { name: 'asking for multipart/mixed;deferSpec=20220824', accept: 'multipart/mixed;deferSpec=20220824, application/json', contentType: /^multipart\/mixed;.*deferSpec=20220824/ },
  { name: 'asking for multipart/mixed;incrementalSpec=v0.2', accept: 'multipart/mixed;incrementalSpec=v0.2, application/json', contentType: /^multipart\/mixed;.*incrementalSpec=v0\.2/ },
]) {
  test(`urql (fetchExchange's incremental delivery) ${name}: the name first, then the events`, async () => {
    const rec = notingFetch();
    const urql = new Client({
      url: gw.url + '/graphql',
      exchanges: [fetchExchange],
      fetch: rec.fetch,
      preferGetMethod: false,
      fetchOptions: accept ? { headers: { accept } } : {},
    });
    const results = [];
    await new Promise((resolve, reject) => {
      const sub = urql.query(DEFERRED, {}).subscribe((r) => {
        if (r.error) return reject(r.error);
        results.push({ hasNext: r.hasNext, data: structuredClone(r.data) });
        if (!r.hasNext) { queueMicrotask(() => sub.unsubscribe()); resolve(); }
      });
    });

    assert.equal(rec.seen.length, 1);
    if (accept) assert.equal(rec.seen[0].accept, accept);
    else assert.match(rec.seen[0].accept, /text\/event-stream, multipart\/mixed$/);
    assert.match(rec.seen[0].contentType, contentType);

    assert.ok(results.length >= 2, `saw ${results.length} result(s): ${JSON.stringify(results)}`);
    const [first] = results;
    const last = results[results.length - 1];
    assert.equal(first.hasNext, true);
    assert.equal(first.data.user.userName, 'john_doe');
    assert.ok(!('events' in first.data.user), `first result: ${JSON.stringify(first.data)}`);
    assert.equal(last.hasNext, false);
    assert.deepEqual(last.data.user, { userName: 'john_doe', events: EVENTS });
  });
}

// Apollo Client and urql hand a multipart part over when they find the
// delimiter after it: Apollo's consumeMultipartBody
// (@apollo/client/link/http/parseAndCheckHttpResponse.js) yields the text
// before each "\r\n--" + boundary it finds, and urql's parseMultipartMixed
// (@urql/core's dist/urql-core-chunk.mjs) splits the stream at
// "\r\n--" + boundary the same way. The gateway ends each part with its
// delimiter as soon as it is written (multipartWriter.write in
// graph/transport/parts.go), as Apollo Server does: were the delimiter
// written before the next part instead, both clients would get the name
// with the events, and @defer would save the screen nothing.
// Each runs DEFERRED to the end, calling onFirst at its first result.
const earlyClients = {
  'Apollo Client (Defer20220824Handler)': (url, fetch, onFirst) => new Promise((resolve, reject) => {
    const apollo = new ApolloClient({ link: new HttpLink({ uri: url, fetch }), cache: new InMemoryCache(), incrementalHandler: new Defer20220824Handler() });
    let n = 0;
    const sub = apollo.watchQuery({ query: gql(DEFERRED), fetchPolicy: 'network-only' }).subscribe({
      next: (r) => {
        if (r.error) return reject(r.error);
        if (r.data && n++ === 0) onFirst();
        if (!r.loading) { sub.unsubscribe(); resolve(); }
      },
      error: reject,
    });
  }),
  'urql (multipart/mixed;deferSpec=20220824)': (url, fetch, onFirst) => new Promise((resolve, reject) => {
    const urql = new Client({ url, exchanges: [fetchExchange], fetch, preferGetMethod: false, fetchOptions: { headers: { accept: 'multipart/mixed;deferSpec=20220824, application/json' } } });
    let n = 0;
    const sub = urql.query(DEFERRED, {}).subscribe((r) => {
      if (r.error) return reject(r.error);
      if (n++ === 0) onFirst();
      if (!r.hasNext) { queueMicrotask(() => sub.unsubscribe()); resolve(); }
    });
  }),
};
for (const [name, run] of Object.entries(earlyClients)) {
  test(`${name} gets the name before the deferred part is sent`, async () => {
    const tee = teeFetch();
    // What had arrived when the client handed its first result over (once
    // the chunk that brought it is handled everywhere).
    let atFirst;
    await run(slow.url + '/graphql', tee.fetch, () => { atFirst = afterQueuedWork().then(() => tee.received()); });
    atFirst = await atFirst;
    assert.ok(atFirst.includes('"john_doe"'), atFirst);
    assert.ok(!atFirst.includes('"incremental"'), `received by the first result: ${JSON.stringify(atFirst)}`);
  });
}

// Issue 25: Apollo Client 4 receives eventAdded with nothing but an
// HttpLink (no GraphQLWsLink, no split): for a subscription its
// BaseHttpLink sends a POST with Accept
// "multipart/mixed;boundary=graphql;subscriptionSpec=1.0, …" and reads
// Apollo's multipart subscription protocol (readMultipartBody in
// @apollo/client/link/http/parseAndCheckHttpResponse.js: heartbeats {}
// skipped, each {"payload": …} a result). Another caller adds the events
// through the REST door.
//
// The gateway runs with SSE_MAX_STREAMS_PER_CLIENT=1, so one subscription
// at a time from this (loopback) client: the second is refused, and the
// slot is free again once the first is unsubscribed.
//
// This file's server sees 4 addEvent calls, inside the simulator's 5
// successes (calls 6–15 of every 15 fail).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { startGateway, waitForSubscriptions, pushed, metrics, teeFetch, afterQueuedWork } from '../helpers.mjs';

let gw;
let apollo;
const requests = [];

before(async () => {
  gw = await startGateway({ SSE_MAX_STREAMS_PER_CLIENT: '1' });
  // Notes each request's Accept and each answer's status and media type,
  // without reading the body (it lasts as long as the subscription).
  const noting = async (input, init = {}) => {
    const res = await fetch(input, init);
    requests.push({ accept: new Headers(init.headers).get('accept'), status: res.status, contentType: res.headers.get('content-type') });
    return res;
  };
  apollo = new ApolloClient({
    link: new HttpLink({ uri: gw.url + '/graphql', fetch: noting }),
    cache: new InMemoryCache(),
  });
});
after(async () => { await gw?.stop(); });

const EVENT_ADDED = gql`
  subscription EventAdded($userId: ID) { eventAdded(userId: $userId) { id name userId details } }
`;

// Subscribes through client (default: apollo) and returns the queue of the events it pushes;
// errors: what Apollo reported as an error, ended: whether it completed.
function subscribe(variables, what, client = apollo) {
  const q = pushed(what);
  const errors = pushed(`${what}: error`);
  const state = { ended: false };
  const sub = client.subscribe({ query: EVENT_ADDED, variables }).subscribe({
    next: (r) => {
      if (r.error) { errors.push(r.error); q.fail(r.error); } else q.push(r.data.eventAdded);
    },
    error: (e) => { errors.push(e); q.fail(e); },
    complete: () => { state.ended = true; },
  });
  return { ...q, errors, state, unsubscribe: () => sub.unsubscribe() };
}

// Another caller: the REST door's POST /addEvent (the original route).
async function addEventREST(input) {
  const res = await fetch(gw.url + '/addEvent', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.event;
}

// Subscription answers that have ended: the access log's line for a
// request is written, and gateway_http_requests_total counts it, when its
// answer is over, so a multipart subscription shows there only once it
// has ended.
async function endedSubscriptionRequests() {
  return (await metrics(gw.url))['gateway_http_requests_total{method="POST",route="/graphql",status="200"}'];
}

async function waitFor(what, cond, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// The records of the gateway's log at level WARN or above.
function logProblems() {
  return gw.logs.flatMap((line) => {
    try {
      const rec = JSON.parse(line);
      return rec.level === 'WARN' || rec.level === 'ERROR' ? [rec] : [];
    } catch { return []; }
  });
}

test('Apollo HttpLink alone: another caller adds an event and the subscription receives it over multipart; unsubscribing ends the request', async () => {
  const ended = await endedSubscriptionRequests();
  const sub = subscribe({}, 'eventAdded');
  await waitForSubscriptions(gw.url, 1);
  assert.equal(requests.length, 1);
  assert.match(requests[0].accept, /^multipart\/mixed;boundary=graphql;subscriptionSpec=1\.0,/);
  assert.equal(requests[0].status, 200);
  assert.match(requests[0].contentType, /^multipart\/mixed;\s*boundary="?graphql"?;\s*subscriptionSpec="?1\.0"?/);

  const added = await addEventREST({ name: 'Multipart push', userId: '1', details: 'e2e multipart' });
  assert.deepEqual(await sub.next(), { __typename: 'Event', ...added });
  // Apollo normalised the pushed event into its cache like any other.
  assert.equal(apollo.cache.extract()[`Event:${added.id}`]?.name, 'Multipart push');

  // Unsubscribing aborts the fetch: the gateway ends the subscription and
  // the request (answered 200, as streamed so far).
  assert.equal(await endedSubscriptionRequests(), ended, 'the subscription request is still open');
  sub.unsubscribe();
  await waitForSubscriptions(gw.url, 0);
  await waitFor('the subscription request ends', async () => (await endedSubscriptionRequests()) === ended + 1);
  assert.deepEqual(sub.all.map((e) => e.id), [added.id]);
  assert.deepEqual(sub.errors.all, []);
  assert.deepEqual(logProblems(), []);
});

test('over the per-client limit (SSE_MAX_STREAMS_PER_CLIENT=1) a second subscription is an error in Apollo; the first keeps going, and after it a new one works', async () => {
  requests.length = 0;
  const first = subscribe({ userId: '2' }, 'first eventAdded');
  await waitForSubscriptions(gw.url, 1);

  // Other variables: Apollo Client shares one request among identical
  // subscriptions (queryDeduplication), which the gateway would not see.
  const second = subscribe({ userId: '3' }, 'second eventAdded');
  const err = await second.errors.next();
  // The gateway's 429 TOO_MANY_STREAMS. It answers in the first type of
  // Apollo's Accept that fits, application/graphql-response+json, whose
  // errors Apollo reports whatever the status (parseResponse in
  // @apollo/client/link/http/parseAndCheckHttpResponse.js): the
  // subscription's error is the GraphQL error, with its code.
  assert.equal(requests[1].status, 429);
  assert.match(requests[1].contentType, /^application\/graphql-response\+json/);
  assert.ok(CombinedGraphQLErrors.is(err), `${err?.name}: ${err?.message}`);
  assert.equal(err.errors[0].extensions.code, 'TOO_MANY_STREAMS');
  assert.match(err.errors[0].message, /SSE_MAX_STREAMS_PER_CLIENT/);
  assert.deepEqual(second.all, []);

  const janes = await addEventREST({ name: "Jane's multipart event", userId: '2' });
  assert.equal((await first.next()).id, janes.id);
  first.unsubscribe();
  await waitForSubscriptions(gw.url, 0);

  // The slot is free again: a new subscription is accepted and receives.
  const third = subscribe({ userId: '2' }, 'third eventAdded');
  await waitForSubscriptions(gw.url, 1);
  const again = await addEventREST({ name: "Jane's next multipart event", userId: '2' });
  assert.deepEqual(await third.next(), { __typename: 'Event', ...again, details: again.details ?? null });
  third.unsubscribe();
  await waitForSubscriptions(gw.url, 0);
  assert.deepEqual(first.errors.all, []);
  assert.deepEqual(third.errors.all, []);
  assert.deepEqual(logProblems(), []);
});

// Apollo's reader (consumeMultipartBody in
// @apollo/client/link/http/parseAndCheckHttpResponse.js) hands a part over
// when it finds the delimiter after it ("\r\n--graphql"). The gateway
// ends each part with its delimiter as soon as it is written
// (multipartWriter.write in graph/transport/parts.go), as Apollo Server
// does ("so the client can parse it immediately"); otherwise an event would
// reach Apollo with the heartbeat that follows it, up to 5 s late.
test('an event reaches Apollo without waiting for the next heartbeat', async () => {
  const tee = teeFetch();
  const client = new ApolloClient({ link: new HttpLink({ uri: gw.url + '/graphql', fetch: tee.fetch }), cache: new InMemoryCache() });
  const sub = subscribe({ userId: '1' }, 'eventAdded', client);
  await waitForSubscriptions(gw.url, 1);
  const added = await addEventREST({ name: 'No heartbeat needed', userId: '1' });
  const got = await sub.next(15000);
  await afterQueuedWork();
  const atDelivery = tee.received();
  sub.unsubscribe();
  await waitForSubscriptions(gw.url, 0);
  assert.equal(got.id, added.id);
  // What had arrived when Apollo handed the event over: no heartbeat after
  // the event's part (the next is 5 s away).
  const afterEvent = atDelivery.slice(atDelivery.indexOf(added.id));
  assert.ok(!afterEvent.includes('\r\n\r\n{}'), `received by then: ${JSON.stringify(atDelivery)}`);
});

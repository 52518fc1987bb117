// Issue 14: Apollo Client receives eventAdded over WebSocket, set up as an
// app sets it up: GraphQLWsLink (graphql-ws's client, the
// graphql-transport-ws subprotocol) for subscriptions, split from HttpLink
// for everything else. Another client (plain fetch) adds the events.
//
// This file's server sees 3 addEvent calls, inside the simulator's 5
// successes (calls 6–15 of every 15 fail).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startGateway, addEvent, waitForSubscriptions, pushed } from '../helpers.mjs';

let gw;
let ws;
let apollo;
const protocols = [];

before(async () => {
  gw = await startGateway();
  // Node 20 has no global WebSocket: graphql-ws takes the ws package's.
  // The subclass only records the subprotocol the gateway chose.
  class RecordingWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      this.once('open', () => protocols.push(this.protocol));
    }
  }
  ws = createClient({ url: gw.url.replace(/^http/, 'ws') + '/graphql', webSocketImpl: RecordingWebSocket, retryAttempts: 0 });
  apollo = new ApolloClient({
    link: ApolloLink.split(
      ({ query }) => {
        const def = getMainDefinition(query);
        return def.kind === 'OperationDefinition' && def.operation === 'subscription';
      },
      new GraphQLWsLink(ws),
      new HttpLink({ uri: gw.url + '/graphql' }),
    ),
    cache: new InMemoryCache(),
  });
});
after(async () => {
  await ws?.dispose();
  await gw?.stop();
});

const EVENT_ADDED = gql`
  subscription EventAdded($userId: ID) { eventAdded(userId: $userId) { id name userId details } }
`;

// Subscribes through Apollo and returns the queue of what it pushes.
function subscribe(variables, what) {
  const q = pushed(what);
  const sub = apollo.subscribe({ query: EVENT_ADDED, variables }).subscribe({
    next: (r) => (r.error ? q.fail(r.error) : q.push(r.data.eventAdded)),
    error: (e) => q.fail(e),
  });
  return { ...q, unsubscribe: () => sub.unsubscribe() };
}

test('Apollo GraphQLWsLink: another client adds an event and the subscription receives it', async () => {
  const sub = subscribe({}, 'eventAdded');
  await waitForSubscriptions(gw.url, 1);
  assert.deepEqual(protocols, ['graphql-transport-ws']);

  const added = await addEvent(gw.url, { name: 'Apollo push', userId: '1', details: 'e2e subscriptions' });
  const got = await sub.next();
  assert.deepEqual(got, { __typename: 'Event', ...added });

  // Apollo normalised the pushed event into its cache like any other.
  assert.equal(apollo.cache.extract()[`Event:${added.id}`]?.name, 'Apollo push');

  // Unsubscribing ends the subscription on the gateway, and nothing else came.
  sub.unsubscribe();
  await waitForSubscriptions(gw.url, 0);
  assert.equal(sub.all.length, 1, `pushed: ${JSON.stringify(sub.all)}`);
});

test("Apollo GraphQLWsLink with a userId filter: another user's event does not arrive", async () => {
  const jane = subscribe({ userId: '2' }, "eventAdded(userId: \"2\")");
  const everyone = subscribe({}, 'eventAdded');
  await waitForSubscriptions(gw.url, 2);

  const bobs = await addEvent(gw.url, { name: "Bob's event", userId: '3', details: 'e2e subscriptions' });
  const janes = await addEvent(gw.url, { name: "Jane's event", userId: '2', details: 'e2e subscriptions' });

  // The unfiltered subscription proves both were pushed, in order...
  assert.equal((await everyone.next()).id, bobs.id);
  assert.equal((await everyone.next()).id, janes.id);
  // ...and the filtered one got only jane's: bob's, published first on the
  // same feed, would have come before it.
  const got = await jane.next();
  assert.deepEqual(got, { __typename: 'Event', ...janes });
  assert.deepEqual(jane.all.map((e) => e.id), [janes.id]);

  jane.unsubscribe();
  everyone.unsubscribe();
  await waitForSubscriptions(gw.url, 0);
  assert.deepEqual(jane.all.map((e) => e.userId), ['2']);
  // graphql-ws closed its lazy connection when the first test's
  // subscription ended; both of these shared the one it opened again.
  assert.deepEqual(protocols, ['graphql-transport-ws', 'graphql-transport-ws']);
});

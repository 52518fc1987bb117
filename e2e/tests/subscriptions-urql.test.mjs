// Issue 14: urql receives eventAdded over WebSocket: @urql/core's
// subscriptionExchange forwarding to a graphql-ws client (the
// graphql-transport-ws subprotocol), as urql's docs set it up. Another
// client (plain fetch) adds the event.
//
// This file's server sees 1 addEvent call, inside the simulator's 5
// successes (calls 6–15 of every 15 fail).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, cacheExchange, fetchExchange, subscriptionExchange, gql } from '@urql/core';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startGateway, addEvent, waitForSubscriptions, pushed } from '../helpers.mjs';

let gw;
let ws;
let urql;

before(async () => {
  gw = await startGateway();
  // Node 20 has no global WebSocket: graphql-ws takes the ws package's.
  ws = createClient({ url: gw.url.replace(/^http/, 'ws') + '/graphql', webSocketImpl: WebSocket, retryAttempts: 0 });
  urql = new Client({
    url: gw.url + '/graphql',
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
});
after(async () => {
  await ws?.dispose();
  await gw?.stop();
});

const EVENT_ADDED = gql`
  subscription EventAdded($userId: ID) { eventAdded(userId: $userId) { id name userId details } }
`;

test('urql subscriptionExchange over graphql-ws: another client adds an event and the subscription receives it', async () => {
  const q = pushed('eventAdded');
  const sub = urql.subscription(EVENT_ADDED, {}).subscribe((r) => (r.error ? q.fail(r.error) : q.push(r.data.eventAdded)));
  await waitForSubscriptions(gw.url, 1);

  const added = await addEvent(gw.url, { name: 'urql push', userId: '3', details: 'e2e subscriptions' });
  const got = await q.next();
  assert.deepEqual(got, added);

  sub.unsubscribe();
  await waitForSubscriptions(gw.url, 0);
  assert.equal(q.all.length, 1, `pushed: ${JSON.stringify(q.all)}`);
});

// Relay-style pagination with the clients' own helpers, unchanged: Apollo
// Client's relayStylePagination() and urql Graphcache's relayPagination()
// merge the gateway's pages (User.eventsConnection, Query.usersConnection,
// Query.eventsConnection) into one list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, InMemoryCache, HttpLink, gql } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { Client, fetchExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { startGateway, metrics } from '../helpers.mjs';

let gw;

// The seed's users 1, 2, 3, then u1 with 1000 events u1-e1 … u1-e1000.
before(async () => { gw = await startGateway({ SIM_USERS: '1', SIM_EVENTS_PER_USER: '1000' }); });
after(async () => { await gw?.stop(); });

const ids = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => `u1-e${from + i}`);

// getEventById calls the gateway has made so far (every outcome).
async function eventLookups() {
  const m = await metrics(gw.url);
  return Object.entries(m)
    .filter(([k]) => k.startsWith('gateway_upstream_calls_total{') && k.includes('route="getEventById"'))
    .reduce((n, [, v]) => n + v, 0);
}

const USER_EVENTS = `
  query UserEvents($id: ID!, $first: Int, $after: String) {
    user(id: $id) {
      id
      eventsConnection(first: $first, after: $after) {
        totalCount
        edges { cursor node { id name } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
`;

// Resolves with the first result of q that is not loading.
function settled(q) {
  return new Promise((resolve, reject) => {
    const sub = q.subscribe({
      next: (r) => { if (!r.loading) { queueMicrotask(() => sub.unsubscribe()); resolve(r); } },
      error: reject,
    });
  });
}

test("Apollo Client: relayStylePagination() merges a user's pages, each costing its own lookups", async () => {
  const apollo = new ApolloClient({
    link: new HttpLink({ uri: gw.url + '/graphql' }),
    cache: new InMemoryCache({
      typePolicies: {
        User: { fields: { eventsConnection: relayStylePagination() } },
        Query: { fields: { usersConnection: relayStylePagination(), eventsConnection: relayStylePagination() } },
      },
    }),
  });
  const before = await eventLookups();
  const q = apollo.watchQuery({ query: gql(USER_EVENTS), variables: { id: 'u1', first: 20 } });
  const first = (await settled(q)).data.user.eventsConnection;
  assert.deepEqual(first.edges.map((e) => e.node.id), ids(1, 20));
  assert.equal(first.totalCount, 1000);
  assert.equal(first.pageInfo.hasNextPage, true);
  assert.equal(first.pageInfo.hasPreviousPage, false);
  assert.equal(await eventLookups() - before, 20, 'the first page cost more than its 20 lookups');

  await q.fetchMore({ variables: { after: first.pageInfo.endCursor } });
  await q.fetchMore({ variables: { after: q.getCurrentResult().data.user.eventsConnection.pageInfo.endCursor } });
  const merged = q.getCurrentResult().data.user.eventsConnection;
  assert.deepEqual(merged.edges.map((e) => e.node.id), ids(1, 60));
  assert.equal(merged.pageInfo.hasNextPage, true);
  assert.equal(merged.pageInfo.hasPreviousPage, false);
  assert.equal(merged.pageInfo.endCursor, merged.edges[59].cursor);
  assert.equal(await eventLookups() - before, 60, 'three pages of 20 cost more than 60 lookups');

  // Backward, over every user: the last two, then the two before them.
  const USERS = gql`
    query Users($last: Int, $before: String) {
      usersConnection(last: $last, before: $before) {
        totalCount
        edges { cursor node { id userName } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  `;
  const uq = apollo.watchQuery({ query: USERS, variables: { last: 2 } });
  const lastTwo = (await settled(uq)).data.usersConnection;
  assert.deepEqual(lastTwo.edges.map((e) => e.node.id), ['3', 'u1']);
  assert.equal(lastTwo.pageInfo.hasPreviousPage, true);
  await uq.fetchMore({ variables: { before: lastTwo.pageInfo.startCursor } });
  const all = uq.getCurrentResult().data.usersConnection;
  assert.deepEqual(all.edges.map((e) => e.node.id), ['1', '2', '3', 'u1']);
  assert.equal(all.totalCount, 4);
  assert.equal(all.pageInfo.hasPreviousPage, false);
  assert.equal(all.pageInfo.hasNextPage, false);
});

test("urql: Graphcache's relayPagination() merges the pages of a user's events and of every event", async () => {
  const urql = new Client({
    url: gw.url + '/graphql',
    exchanges: [
      cacheExchange({
        // Connections, edges and pageInfo have no id: they are embedded in
        // the entity (or query) that holds them.
        keys: { EventConnection: () => null, EventEdge: () => null, UserConnection: () => null, UserEdge: () => null, PageInfo: () => null },
        resolvers: {
          User: { eventsConnection: relayPagination() },
          Query: { usersConnection: relayPagination(), eventsConnection: relayPagination() },
        },
      }),
      fetchExchange,
    ],
    preferGetMethod: false,
  });
  const page = async (query, variables) => {
    const res = await urql.query(query, variables).toPromise();
    assert.equal(res.error, undefined, String(res.error));
    return res.data;
  };

  const first = (await page(USER_EVENTS, { id: 'u1', first: 25 })).user.eventsConnection;
  assert.deepEqual(first.edges.map((e) => e.node.id), ids(1, 25));
  assert.equal(first.totalCount, 1000);
  const merged = (await page(USER_EVENTS, { id: 'u1', first: 25, after: first.pageInfo.endCursor })).user.eventsConnection;
  assert.deepEqual(merged.edges.map((e) => e.node.id), ids(1, 50));
  assert.equal(merged.pageInfo.hasNextPage, true);
  assert.equal(merged.pageInfo.hasPreviousPage, false);
  assert.equal(merged.pageInfo.endCursor, merged.edges[49].cursor);

  const EVENTS = `
    query Events($first: Int, $after: String) {
      eventsConnection(first: $first, after: $after) {
        totalCount
        edges { cursor node { id } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  `;
  const head = (await page(EVENTS, { first: 3 })).eventsConnection;
  assert.deepEqual(head.edges.map((e) => e.node.id), ['event-1', 'event-2', 'event-3']);
  assert.equal(head.totalCount, 1004);
  const more = (await page(EVENTS, { first: 3, after: head.pageInfo.endCursor })).eventsConnection;
  assert.deepEqual(more.edges.map((e) => e.node.id), ['event-1', 'event-2', 'event-3', 'event-4', 'u1-e1', 'u1-e2']);
  assert.equal(more.pageInfo.hasNextPage, true);
});

test('a bad page argument is BAD_USER_INPUT naming the argument', async () => {
  const bad = async (variables) => {
    const res = await fetch(gw.url + '/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: USER_EVENTS, variables: { id: 'u1', ...variables } }),
    });
    const body = await res.json();
    assert.equal(body.errors?.length, 1, JSON.stringify(body));
    assert.equal(body.errors[0].extensions.code, 'BAD_USER_INPUT');
    assert.deepEqual(body.errors[0].path, ['user', 'eventsConnection']);
    return body.errors[0].message;
  };
  assert.match(await bad({ first: -1 }), /^first: must not be negative/);
  assert.match(await bad({ first: 101 }), /^first: must be at most 100 \(MAX_PAGE_SIZE\)/);
  assert.match(await bad({ first: 5, after: 'not a cursor!' }), /^after: malformed cursor/);
  const { data } = await (await fetch(gw.url + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ usersConnection(first: 1) { pageInfo { endCursor } } }' }),
  })).json();
  assert.match(await bad({ first: 5, after: data.usersConnection.pageInfo.endCursor }), /^after: cursor is not from this list/);
});

// Apollo Client (core, HttpLink, InMemoryCache) against the real server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, InMemoryCache, HttpLink, gql } from '@apollo/client';
import { startGateway } from '../helpers.mjs';

let gw;
let client;

const possibleTypes = { AddEventResult: ['AddEventSuccess', 'ServiceUnavailable', 'InvalidInput'] };

before(async () => {
  gw = await startGateway();
  client = new ApolloClient({
    link: new HttpLink({ uri: gw.url + '/graphql' }),
    cache: new InMemoryCache({ possibleTypes }),
  });
});
after(async () => { await gw?.stop(); });

const USERS = gql`
  query Users { users { id userName events { id name userId } } }
`;
const USER_EVENTS = gql`
  query UserEvents($id: ID!) { user(id: $id) { id userName events { id name details } } }
`;
const ADD = gql`
  mutation Add($input: AddEventInput!, $key: String) {
    addEvent(input: $input, idempotencyKey: $key) {
      __typename
      ... on AddEventSuccess { event { id name userId details } }
      ... on ServiceUnavailable { message retryAfter circuitState }
      ... on InvalidInput { message field }
    }
  }
`;

test('lists users with their events', async () => {
  const { data } = await client.query({ query: USERS });
  assert.deepEqual(data.users.map((u) => u.id), ['1', '2', '3']);
  assert.deepEqual(data.users[0].events.map((e) => e.id), ['event-1', 'event-3']);
  assert.equal(data.users[0].events[1].name, 'Workshop');
  for (const u of data.users) for (const e of u.events) assert.equal(e.userId, u.id);
});

test("one user's events", async () => {
  const { data } = await client.query({ query: USER_EVENTS, variables: { id: '2' } });
  assert.equal(data.user.userName, 'jane_smith');
  assert.deepEqual(data.user.events.map((e) => [e.id, e.name]), [['event-2', 'Music Festival']]);
});

test('addEvent through the failure cycle, branching on __typename', async () => {
  const outcomes = [];
  let added;
  for (let i = 0; i < 9; i++) {
    const { data } = await client.mutate({ mutation: ADD, variables: { input: { name: `Party ${i}`, userId: '3', details: 'e2e' } } });
    const r = data.addEvent;
    switch (r.__typename) {
      case 'AddEventSuccess':
        assert.match(r.event.id, /^event-/);
        assert.equal(r.event.name, `Party ${i}`);
        added = r.event;
        outcomes.push('ok');
        break;
      case 'ServiceUnavailable':
        assert.ok(r.retryAfter > 0, 'retryAfter must be positive');
        assert.ok(r.message.length > 0);
        outcomes.push(r.circuitState);
        break;
      default:
        assert.fail(`unexpected ${r.__typename}`);
    }
  }
  // The simulator's cycle: 5 stored, then failures; the third failure opens the circuit.
  assert.deepEqual(outcomes, ['ok', 'ok', 'ok', 'ok', 'ok', 'CLOSED', 'CLOSED', 'OPEN', 'OPEN']);

  const invalid = (await client.mutate({ mutation: ADD, variables: { input: { name: '   ', userId: '3' } } })).data.addEvent;
  assert.equal(invalid.__typename, 'InvalidInput');
  assert.equal(invalid.field, 'name');

  // The stored event shows in a network-only refetch.
  const { data } = await client.query({ query: USER_EVENTS, variables: { id: '3' }, fetchPolicy: 'network-only' });
  const ids = data.user.events.map((e) => e.id);
  assert.ok(ids.includes(added.id), `${added.id} missing from ${ids}`);
  assert.equal(ids.length, 1 + 5);
});

test('cache normalisation: ids are stable and unique', async () => {
  const first = await client.query({ query: USERS, fetchPolicy: 'network-only' });
  const again = await client.query({ query: USERS, fetchPolicy: 'network-only' });
  const ids = (d) => d.users.flatMap((u) => [`User:${u.id}`, ...u.events.map((e) => `Event:${e.id}`)]);
  assert.deepEqual(ids(again.data), ids(first.data), 'ids changed between two fetches');

  const events = first.data.users.flatMap((u) => u.events.map((e) => e.id));
  assert.equal(new Set(events).size, events.length, 'two events share an id');

  const cache = client.cache.extract();
  for (const key of ids(first.data)) assert.ok(cache[key], `cache has no ${key}`);
  // One event fetched by two paths is one cache entry.
  const byId = await client.query({ query: gql`query { event(id: "event-2") { id name } }` });
  assert.equal(byId.data.event.id, 'event-2');
  assert.equal(client.cache.extract()['Event:event-2'].name, 'Music Festival');
});

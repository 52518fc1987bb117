// urql (@urql/core with its fetch exchange) against the real server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, fetchExchange, gql } from '@urql/core';
import { parse } from 'graphql';
import { startGateway } from '../helpers.mjs';

let gw;
let client;

before(async () => {
  gw = await startGateway();
  // urql sends GET for short queries by default; the gateway's CSRF
  // prevention (as Apollo Server's) wants a preflight header on GET.
  client = new Client({
    url: gw.url + '/graphql',
    exchanges: [fetchExchange],
    fetchOptions: { headers: { 'apollo-require-preflight': 'true' } },
  });
});
after(async () => { await gw?.stop(); });

test('lists users with their events', async () => {
  const res = await client.query(gql`{ users { id events { id name } } }`, {}).toPromise();
  assert.equal(res.error, undefined);
  assert.deepEqual(res.data.users.map((u) => u.events.length), [2, 1, 1]);
});

test("one user's events, over GET and over POST", async () => {
  const query = gql`query UserEvents($id: ID!) { user(id: $id) { events { id name } } }`;
  const get = await client.query(query, { id: '1' }, { preferGetMethod: 'force' }).toPromise();
  const post = await client.query(query, { id: '1' }, { preferGetMethod: false, requestPolicy: 'network-only' }).toPromise();
  for (const res of [get, post]) {
    assert.equal(res.error, undefined);
    assert.deepEqual(res.data.user.events.map((e) => e.id), ['event-1', 'event-3']);
  }
});

// urql parses query strings itself, so a broken string never leaves the
// client. A document's source text is what urql sends, though: give it a
// parsed document whose source is broken, as a bad persisted or generated
// document would be, and the server's answer is what urql reports.
function brokenDocument(valid, brokenText) {
  const doc = parse(valid);
  doc.loc = { start: 0, end: brokenText.length, source: { body: brokenText, name: 'broken', locationOffset: { line: 1, column: 1 } } };
  return doc;
}

test('a syntax error is a GraphQL error with a message, not a transport failure', async () => {
  const res = await client.query(brokenDocument('{ events { id userId } }', '{ events { id userId '), {}).toPromise();
  assert.ok(res.error, 'expected an error');
  assert.equal(res.error.networkError, undefined, `transport failure: ${res.error.networkError}`);
  assert.ok(res.error.graphQLErrors.length > 0);
  assert.match(res.error.graphQLErrors[0].message, /Expected|Unexpected|syntax/i);
});

test('an unknown field is a GraphQL error naming it', async () => {
  const res = await client.query(gql`{ users { id age } }`, {}).toPromise();
  assert.ok(res.error);
  assert.equal(res.error.networkError, undefined);
  assert.match(res.error.graphQLErrors[0].message, /age/);
});

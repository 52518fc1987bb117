// Issue 23: the clients our users use, against a gateway with
// AUTH_MODE=required and a development key (AUTH_DEV_KEY). The tokens are
// what a newcomer mints with the devtoken command ($DEVTOKEN_BIN, built by
// e2e/run.sh): user 3's, and an admin's (user 2 with events:admin).
//
// - Apollo Client with the token in HttpLink's headers: reads, ownership of
//   e-mail addresses and of addEvent, no token.
// - urql with the token in fetchOptions, and its subscriptionExchange over
//   graphql-ws with the token in connectionParams (the connection_init
//   payload); without it the socket closes with 4403.
// - GraphiQL in Chromium with the token typed into its Headers tab.
//
// This file's server sees 2 addEvent calls reach the Event API, inside the
// simulator's 5 successes (calls 6–15 of every 15 fail); the refused one
// never gets there.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloClient, InMemoryCache, HttpLink, gql } from '@apollo/client';
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import { Client, fetchExchange, subscriptionExchange, gql as urqlGql } from '@urql/core';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { gatewayWithBrowser, recordingFetch, waitForSubscriptions, pushed, screenshot } from '../helpers.mjs';

// The development key is made by the first devtoken run (the command
// creates a missing key file), before the gateway starts with it.
const keyDir = mkdtempSync(join(tmpdir(), 'e2e-auth-'));
const key = join(keyDir, 'devkey.pem');
function mint(...args) {
  const bin = process.env.DEVTOKEN_BIN;
  if (!bin) throw new Error('DEVTOKEN_BIN is not set: run the suite with e2e/run.sh');
  return execFileSync(bin, [...args, '-key', key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}
const user3 = mint('-sub', '3');
const admin = mint('-sub', '2', '-scope', 'events:admin');

const env = gatewayWithBrowser({ AUTH_MODE: 'required', AUTH_DEV_KEY: key });
after(() => rmSync(keyDir, { recursive: true, force: true }));

const possibleTypes = { AddEventResult: ['AddEventSuccess', 'ServiceUnavailable', 'InvalidInput'] };

// An Apollo Client as an app builds one once it has a token.
function apollo(token, rec = recordingFetch()) {
  return new ApolloClient({
    link: new HttpLink({
      uri: env.gw.url + '/graphql',
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      fetch: rec.fetch,
    }),
    cache: new InMemoryCache({ possibleTypes }),
  });
}

const USERS = gql`query Users { users { id userName } }`;
const EMAILS = gql`
  query Emails { mine: user(id: "3") { id email } other: user(id: "1") { id email } }
`;
const ADD = gql`
  mutation Add($input: AddEventInput!) {
    addEvent(input: $input) {
      __typename
      ... on AddEventSuccess { event { id name userId details } }
      ... on ServiceUnavailable { message }
      ... on InvalidInput { message field }
    }
  }
`;

test('Apollo Client with a bearer token in HttpLink headers: a query runs', async () => {
  const { data } = await apollo(user3).query({ query: USERS });
  assert.deepEqual(data.users.map((u) => u.userName), ['john_doe', 'jane_smith', 'bob_wilson']);
});

test("Apollo Client: user 3 sees its own e-mail; user 1's is null with FORBIDDEN on its path", async () => {
  const { data, error } = await apollo(user3).query({ query: EMAILS, errorPolicy: 'all' });
  assert.equal(data.mine.email, 'bob@example.com');
  assert.equal(data.other.id, '1', 'the rest of the answer resolves');
  assert.equal(data.other.email, null);
  assert.ok(CombinedGraphQLErrors.is(error), `error: ${error}`);
  assert.deepEqual(error.errors.map((e) => [e.extensions.code, e.path]), [['FORBIDDEN', ['other', 'email']]]);

  // An admin sees both.
  const asAdmin = await apollo(admin).query({ query: EMAILS, errorPolicy: 'all' });
  assert.equal(asAdmin.error, undefined);
  assert.deepEqual([asAdmin.data.mine.email, asAdmin.data.other.email], ['bob@example.com', 'john@example.com']);
});

test('Apollo Client: addEvent for itself is AddEventSuccess, for user 1 FORBIDDEN', async () => {
  const client = apollo(user3);
  const own = await client.mutate({ mutation: ADD, variables: { input: { name: 'Mine', userId: '3', details: 'e2e auth' } } });
  assert.equal(own.data.addEvent.__typename, 'AddEventSuccess');
  const { id, ...stored } = own.data.addEvent.event;
  assert.match(id, /^event-/);
  assert.deepEqual(stored, { __typename: 'Event', name: 'Mine', userId: '3', details: 'e2e auth' });

  const other = await client.mutate({ mutation: ADD, variables: { input: { name: 'Not mine', userId: '1' } }, errorPolicy: 'all' });
  assert.ok(CombinedGraphQLErrors.is(other.error), `error: ${other.error}`);
  assert.deepEqual(other.error.errors.map((e) => [e.extensions.code, e.path]), [['FORBIDDEN', ['addEvent']]]);
  assert.equal(other.data ?? null, null);

  // Nothing was stored for user 1.
  const { data } = await apollo(admin).query({ query: gql`{ user(id: "1") { events { name } } }` });
  assert.ok(!data.user.events.some((e) => e.name === 'Not mine'));
});

test('Apollo Client without a token: 401 UNAUTHENTICATED', async () => {
  // Apollo Client 4 asks for application/graphql-response+json, and reads
  // the errors of such an answer whatever its status: a GraphQL error,
  // with the 401 on the response.
  const rec = recordingFetch();
  await assert.rejects(apollo(null, rec).query({ query: USERS }), (err) => {
    assert.ok(CombinedGraphQLErrors.is(err), `got ${err?.name}: ${err}`);
    assert.equal(err.errors[0].extensions.code, 'UNAUTHENTICATED');
    return true;
  });
  assert.equal(rec.last().status, 401);
  assert.equal(rec.last().headers.get('www-authenticate'), 'Bearer realm="eventgw"');

  // A client that accepts only application/json gets the 401 as a ServerError.
  const legacy = new ApolloClient({
    link: new HttpLink({ uri: env.gw.url + '/graphql', headers: { accept: 'application/json' } }),
    cache: new InMemoryCache(),
  });
  await assert.rejects(legacy.query({ query: USERS }), (err) => {
    assert.ok(ServerError.is(err), `got ${err?.name}: ${err}`);
    assert.equal(err.statusCode, 401);
    assert.equal(JSON.parse(err.bodyText).errors[0].extensions.code, 'UNAUTHENTICATED');
    return true;
  });

  // A token signed by another key is refused as invalid.
  const forged = execFileSync(process.env.DEVTOKEN_BIN, ['-sub', '3', '-key', join(keyDir, 'other.pem')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const rec2 = recordingFetch();
  await assert.rejects(apollo(forged, rec2).query({ query: USERS }), (err) => CombinedGraphQLErrors.is(err) && err.errors[0].extensions.code === 'UNAUTHENTICATED');
  assert.equal(rec2.last().status, 401);
  assert.match(rec2.last().headers.get('www-authenticate'), /^Bearer error="invalid_token"/);
});

// urql as its docs set it up: fetchExchange for queries and mutations,
// subscriptionExchange forwarding to a graphql-ws client.
function urql(token, ws) {
  const headers = { 'apollo-require-preflight': 'true' };
  if (token) headers.Authorization = `Bearer ${token}`;
  return new Client({
    url: env.gw.url + '/graphql',
    fetchOptions: { headers },
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }) };
        },
      }),
    ],
  });
}
const wsURL = () => env.gw.url.replace(/^http/, 'ws') + '/graphql';

test('urql with the token in fetchOptions headers, over GET and POST', async () => {
  const client = urql(user3, null);
  const query = urqlGql`query Me($id: ID!) { user(id: $id) { userName email } }`;
  for (const preferGetMethod of ['force', false]) {
    const res = await client.query(query, { id: '3' }, { preferGetMethod, requestPolicy: 'network-only' }).toPromise();
    assert.equal(res.error, undefined, `${preferGetMethod}: ${res.error}`);
    assert.deepEqual(res.data.user, { userName: 'bob_wilson', email: 'bob@example.com' });
  }
  const anonymous = await urql(null, null).query(query, { id: '3' }).toPromise();
  assert.equal(anonymous.error?.graphQLErrors[0]?.extensions.code, 'UNAUTHENTICATED', `${anonymous.error}`);
});

test('urql subscriptionExchange over graphql-ws, the token in connectionParams: eventAdded receives the event the test adds', async () => {
  const ws = createClient({
    url: wsURL(),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { Authorization: `Bearer ${user3}` },
  });
  try {
    const client = urql(user3, ws);
    const q = pushed('eventAdded');
    const sub = client
      .subscription(urqlGql`subscription Mine($userId: ID) { eventAdded(userId: $userId) { id name userId details } }`, { userId: '3' })
      .subscribe((r) => (r.error ? q.fail(r.error) : q.push(r.data.eventAdded)));
    await waitForSubscriptions(env.gw.url, 1);

    const res = await client.mutation(ADD, { input: { name: 'Pushed to me', userId: '3', details: 'e2e auth' } }).toPromise();
    assert.equal(res.error, undefined, `${res.error}`);
    assert.equal(res.data.addEvent.__typename, 'AddEventSuccess');
    const added = res.data.addEvent.event;
    const got = await q.next();
    assert.deepEqual(got, { id: added.id, name: 'Pushed to me', userId: '3', details: 'e2e auth' });

    sub.unsubscribe();
    await waitForSubscriptions(env.gw.url, 0);
  } finally {
    await ws.dispose();
  }
});

test('graphql-ws without connectionParams: the gateway closes the socket with 4403', async () => {
  const closed = [];
  const ws = createClient({
    url: wsURL(),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    on: { closed: (event) => closed.push({ code: event.code, reason: event.reason }) },
  });
  try {
    const err = await new Promise((resolve, reject) => {
      ws.subscribe({ query: 'subscription { eventAdded { id } }' }, {
        next: (v) => reject(new Error(`pushed without a token: ${JSON.stringify(v)}`)),
        error: resolve,
        complete: () => reject(new Error('completed without a token')),
      });
    });
    // graphql-ws hands the sink the CloseEvent itself.
    assert.equal(err.code, 4403, `error: ${err}`);
    assert.deepEqual(closed.map((c) => c.code), [4403]);
    assert.match(closed[0].reason, /Forbidden/);
  } finally {
    await ws.dispose();
  }
});

test('GraphiQL in Chromium: the token in the Headers tab runs a query; without it, UNAUTHENTICATED', async () => {
  const page = await env.browser.newPage();
  const failed = [];
  page.on('requestfailed', (r) => failed.push(r.url()));
  page.on('pageerror', (e) => failed.push('page error: ' + e.message));
  const sent = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/graphql') {
      sent.push({ query: JSON.parse(r.postData()).query, authorization: r.headers().authorization });
    }
  });
  await page.goto(env.gw.url + '/', { waitUntil: 'load' });
  await page.waitForSelector('.graphiql-container', { timeout: 30000 });
  await page.waitForFunction(() => document.querySelector('.graphiql-query-editor .CodeMirror')?.CodeMirror, null, { timeout: 30000 });

  const query = '{ user(id: "3") { userName email } }';
  const editor = '.graphiql-query-editor .CodeMirror';
  await page.evaluate(([sel, q]) => document.querySelector(sel).CodeMirror.setValue(q), [editor, query]);

  // Without a header: the gateway's refusal in the result pane.
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(() => document.querySelector('.result-window')?.textContent.includes('UNAUTHENTICATED'), null, { timeout: 30000 });
  await screenshot(page, 'graphiql-auth-refused.png');

  // Open the Headers tab and type the header, as a person would.
  await page.getByRole('button', { name: 'Headers', exact: true }).click();
  const headers = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';
  await page.waitForSelector(headers, { timeout: 10000 });
  await page.click(headers);
  const typed = `{"Authorization": "Bearer ${user3}"}`;
  await page.keyboard.type(typed);
  // The editor closes brackets and quotes as it goes; typing over them
  // leaves exactly what was typed.
  assert.equal(await page.evaluate((sel) => document.querySelector(sel).CodeMirror.getValue(), headers), typed);

  await page.click('.graphiql-execute-button');
  await page.waitForFunction(() => document.querySelector('.result-window')?.textContent.includes('bob@example.com'), null, { timeout: 30000 });
  const result = await page.textContent('.result-window');
  assert.match(result, /bob_wilson/);
  assert.doesNotMatch(result, /UNAUTHENTICATED/);
  // Show the header from its start in the picture.
  await page.evaluate((sel) => document.querySelector(sel).CodeMirror.scrollTo(0, 0), headers);
  await screenshot(page, 'graphiql-auth.png');

  // The query went twice: without the header, then with it.
  const runs = sent.filter((s) => s.query === query);
  assert.deepEqual(runs.map((s) => s.authorization), [undefined, `Bearer ${user3}`]);
  assert.deepEqual(failed, [], 'requests failed or page errors: ' + failed.join(', '));
  await page.close();
});

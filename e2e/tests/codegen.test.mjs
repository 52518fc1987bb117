// Issue 24, "a typed client, proven end to end": the small frontend client
// in e2e/codegen/ is typed by GraphQL Code Generator's client preset against
// schema.graphqls, which also writes its persisted-documents manifest. This
// file runs codegen and tsc on it as a frontend build does, starts the
// gateway with TRUSTED_DOCUMENTS=enforce and that manifest, and uses the
// compiled client: its query, addEvent and subscription run by id (urql's
// persistedExchange sends the hash the preset embeds in each document, and
// no text), and anything else is refused.
//
// This file's server sees 3 addEvent calls, inside the simulator's 5
// successes (calls 6–15 of every 15 fail).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, fetchExchange, gql } from '@urql/core';
import WebSocket from 'ws';
import { startGateway, waitForSubscriptions, pushed, metrics } from '../helpers.mjs';

const e2e = fileURLToPath(new URL('..', import.meta.url));
const project = fileURLToPath(new URL('../codegen/', import.meta.url));
const manifestPath = project + 'src/gql/persisted-documents.json';

let gw;
let manifest;
let app; // the compiled client module (e2e/codegen/src/client.ts)
let sockets; // what the client's WebSockets sent
let requests; // what the client's fetch sent, and the status it got
let client;

before(async () => {
  // The frontend's build: generate the typed documents and the manifest,
  // then type-check and compile the client (tsc fails on a type error,
  // and on each @ts-expect-error in src/mistakes.ts with no error to expect).
  const run = (bin, args) => {
    try {
      execFileSync(e2e + 'node_modules/.bin/' + bin, args, { cwd: project, encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      throw new Error(`${bin} ${args.join(' ')} failed:\n${err.stdout}\n${err.stderr}`);
    }
  };
  run('graphql-codegen', ['--config', 'codegen.ts', '--silent']);
  run('tsc', ['-p', 'tsconfig.json']);
  manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  app = await import(project + 'dist/client.js');

  gw = await startGateway({ TRUSTED_DOCUMENTS: 'enforce', TRUSTED_DOCUMENTS_FILE: manifestPath });

  sockets = [];
  class RecordingWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      const sent = [];
      sockets.push(sent);
      const send = this.send.bind(this);
      this.send = (data, ...rest) => {
        sent.push(JSON.parse(String(data)));
        return send(data, ...rest);
      };
    }
  }
  requests = [];
  const recordingFetch = async (input, init = {}) => {
    const res = await fetch(input, init);
    requests.push({ method: init.method ?? 'GET', url: String(input), body: init.body, status: res.status, text: await res.clone().text() });
    return res;
  };
  client = app.createEventsClient({ url: gw.url + '/graphql', webSocketImpl: RecordingWebSocket, fetch: recordingFetch });
});
after(async () => {
  await client?.ws.dispose();
  await gw?.stop();
});

test("the client preset's manifest: the client's three operations, each named by the SHA-256 of its text", () => {
  const ops = Object.entries(manifest).map(([hash, text]) => {
    assert.equal(createHash('sha256').update(text).digest('hex'), hash);
    return text.match(/^(query|mutation|subscription) (\w+)/).slice(1).join(' ');
  });
  assert.deepEqual(ops.sort(), ['mutation AddEvent', 'query UserEvents', 'subscription EventAdded']);
  // The generated documents carry the same hashes.
  for (const doc of [app.UserEvents, app.AddEvent, app.EventAdded]) {
    assert.ok(manifest[app.hashOf(doc)], `${doc.definitions[0].name.value}: ${app.hashOf(doc)} is not in the manifest`);
  }
});

test('the query runs by id: a GET with the hash and no text', async () => {
  const user = await app.userEvents(client, '1');
  assert.equal(user.userName, 'john_doe');
  assert.deepEqual(user.events.map((e) => e.id), ['event-1', 'event-3']);

  const { method, url, status } = requests.at(-1);
  assert.equal(method, 'GET');
  assert.equal(status, 200);
  const params = new URL(url).searchParams;
  assert.equal(params.get('query'), null, 'the text was sent');
  assert.equal(JSON.parse(params.get('extensions')).persistedQuery.sha256Hash, app.hashOf(app.UserEvents));
});

test("the same operation by GraphQL over HTTP's documentId, sha256: and bare", async () => {
  const hash = app.hashOf(app.UserEvents);
  for (const documentId of [`sha256:${hash}`, hash]) {
    const res = await fetch(gw.url + '/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ documentId, variables: { id: '2' } }),
    });
    assert.equal(res.status, 200, documentId);
    assert.deepEqual((await res.json()).data.user.events, [{ id: 'event-2', name: 'Music Festival' }]);
  }
});

test('addEvent runs by id: a POST with the hash and no text', async () => {
  const r = await app.addEvent(client, { name: 'Typed', userId: '3', details: 'e2e codegen' });
  assert.equal(r.__typename, 'AddEventSuccess');
  assert.match(r.event.id, /^event-/);
  assert.deepEqual({ ...r.event, id: '' }, { id: '', name: 'Typed', userId: '3', details: 'e2e codegen' });

  const { method, status, body, text } = requests.at(-1);
  assert.equal(method, 'POST');
  assert.equal(status, 200, text);
  const sent = JSON.parse(body);
  assert.equal(sent.query, undefined, 'the text was sent');
  assert.equal(sent.extensions.persistedQuery.sha256Hash, app.hashOf(app.AddEvent));
});

test('the subscription runs by id over graphql-ws: the subscribe payload holds the hash, no text', async () => {
  const q = pushed('eventAdded');
  const stop = app.onEventAdded(client, '3', (e) => q.push(e), (e) => q.fail(e));
  try {
    await waitForSubscriptions(gw.url, 1);
    const r = await app.addEvent(client, { name: 'Typed push', userId: '3', details: 'e2e codegen' });
    assert.equal(r.__typename, 'AddEventSuccess');
    assert.deepEqual(await q.next(), r.event);
  } finally {
    stop();
  }
  await waitForSubscriptions(gw.url, 0);

  const subscribe = sockets.flat().filter((m) => m.type === 'subscribe');
  assert.equal(subscribe.length, 1);
  assert.equal(subscribe[0].payload.query, '');
  assert.equal(subscribe[0].payload.extensions.persistedQuery.sha256Hash, app.hashOf(app.EventAdded));
});

test("the subscription by GraphQL over HTTP's documentId in the graphql-ws payload's extensions", async () => {
  const q = pushed('eventAdded by documentId');
  const payload = { query: '', variables: { userId: '2' }, extensions: { documentId: `sha256:${app.hashOf(app.EventAdded)}` } };
  const stop = client.ws.subscribe(payload, { next: (r) => (r.errors ? q.fail(new Error(JSON.stringify(r.errors))) : q.push(r.data.eventAdded)), error: (e) => q.fail(e), complete: () => {} });
  try {
    await waitForSubscriptions(gw.url, 1);
    const r = await app.addEvent(client, { name: 'By documentId', userId: '2', details: 'e2e codegen' });
    assert.equal(r.__typename, 'AddEventSuccess');
    assert.deepEqual(await q.next(), r.event);
  } finally {
    stop();
  }
  await waitForSubscriptions(gw.url, 0);
});

// A client without the persisted exchange: it sends whatever text it has.
function adHocClient() {
  return new Client({ url: gw.url + '/graphql', exchanges: [fetchExchange], preferGetMethod: false });
}

async function upstreamCalls() {
  const m = await metrics(gw.url);
  return Object.entries(m).filter(([k]) => k.startsWith('gateway_upstream_calls_total')).reduce((n, [, v]) => n + v, 0);
}

test('an ad-hoc query is refused with QUERY_NOT_IN_SAFELIST, an unknown id with PERSISTED_QUERY_NOT_IN_LIST, and neither reaches the Event API', async () => {
  const before = await upstreamCalls();
  const refusedBefore = (await metrics(gw.url))['gateway_graphql_trusted_documents_total{client="unknown",status="refused"}'];

  const res = await adHocClient().query(gql`{ users { id email } }`, {}).toPromise();
  assert.equal(res.data, undefined);
  assert.deepEqual(res.error?.graphQLErrors.map((e) => e.extensions.code), ['QUERY_NOT_IN_SAFELIST'], `${res.error}`);

  const unknown = await fetch(gw.url + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ documentId: 'sha256:' + '0'.repeat(64) }),
  });
  assert.equal(unknown.status, 400);
  assert.match(unknown.headers.get('content-type'), /^application\/graphql-response\+json/);
  assert.deepEqual((await unknown.json()).errors.map((e) => e.extensions.code), ['PERSISTED_QUERY_NOT_IN_LIST']);

  assert.equal(await upstreamCalls(), before, 'a refused request reached the Event API');
  assert.equal((await metrics(gw.url))['gateway_graphql_trusted_documents_total{client="unknown",status="refused"}'], refusedBefore + 2);
});

test("a listed operation's text is accepted byte for byte, and only so", async () => {
  const text = manifest[app.hashOf(app.UserEvents)];
  const post = (query) => fetch(gw.url + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables: { id: '3' } }),
  });
  const exact = await post(text);
  assert.equal(exact.status, 200);
  assert.equal((await exact.json()).data.user.userName, 'bob_wilson');

  // The same operation laid out otherwise is another, unlisted text.
  const written = await post(text.replace('{ user', '{\n  user'));
  assert.equal(written.status, 400);
  assert.equal((await written.json()).errors[0].extensions.code, 'QUERY_NOT_IN_SAFELIST');
});

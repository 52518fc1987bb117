// Issue 14: the other two ways docs/realtime.md offers eventAdded, spoken
// by hand as their clients speak them: the legacy subscriptions-transport-ws
// protocol (WebSocket subprotocol "graphql-ws": GraphQL Playground, older
// Apollo clients) and SSE (graphql-sse's distinct connections mode: a POST
// with Accept: text/event-stream).
//
// This file's server sees 2 addEvent calls, inside the simulator's 5
// successes (calls 6–15 of every 15 fail).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startGateway, addEvent, waitForSubscriptions, pushed } from '../helpers.mjs';

let gw;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.stop(); });

const QUERY = 'subscription EventAdded($userId: ID) { eventAdded(userId: $userId) { id name userId } }';

test('legacy subscriptions-transport-ws ("graphql-ws" subprotocol): connection_ack, data, then complete on stop', async () => {
  const socket = new WebSocket(gw.url.replace(/^http/, 'ws') + '/graphql', 'graphql-ws');
  const messages = pushed('legacy protocol message');
  socket.on('message', (data) => {
    const m = JSON.parse(String(data));
    if (m.type !== 'ka') messages.push(m); // keep-alives come and go
  });
  socket.on('error', (e) => messages.fail(e));
  await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject); });
  assert.equal(socket.protocol, 'graphql-ws');

  socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  assert.equal((await messages.next()).type, 'connection_ack');
  socket.send(JSON.stringify({ id: '1', type: 'start', payload: { query: QUERY, variables: { userId: '1' } } }));
  await waitForSubscriptions(gw.url, 1);

  const added = await addEvent(gw.url, { name: 'Legacy push', userId: '1' });
  assert.deepEqual(await messages.next(), { id: '1', type: 'data', payload: { data: { eventAdded: { id: added.id, name: 'Legacy push', userId: '1' } } } });

  socket.send(JSON.stringify({ id: '1', type: 'stop' }));
  assert.deepEqual(await messages.next(), { id: '1', type: 'complete' });
  await waitForSubscriptions(gw.url, 0);
  assert.equal(messages.all.length, 3);
  socket.send(JSON.stringify({ type: 'connection_terminate' }));
  await new Promise((resolve) => (socket.readyState === WebSocket.CLOSED ? resolve() : socket.once('close', resolve)));
});

test('SSE (POST, Accept: text/event-stream): a next event per push, the stream ends when the client leaves', async () => {
  const abort = new AbortController();
  const res = await fetch(gw.url + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: QUERY, variables: { userId: '3' } }),
    signal: abort.signal,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  await waitForSubscriptions(gw.url, 1);

  // Read events ("event: next\ndata: {...}\n\n") as they come.
  const events = pushed('SSE event');
  (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk, { stream: true });
        let cut;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event) events.push({ event, data: data && JSON.parse(data) });
        }
      }
    } catch (e) {
      if (e.name !== 'AbortError') events.fail(e);
    }
  })();

  const added = await addEvent(gw.url, { name: 'SSE push', userId: '3' });
  assert.deepEqual(await events.next(), { event: 'next', data: { data: { eventAdded: { id: added.id, name: 'SSE push', userId: '3' } } } });

  abort.abort();
  await waitForSubscriptions(gw.url, 0);
});

// The existing REST callers: the four original routes with plain fetch,
// exactly as the original README documents them, status codes included.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../helpers.mjs';

let gw;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.stop(); });

const json = async (res) => ({ status: res.status, body: await res.json() });

test('GET /getUsers', async () => {
  const { status, body } = await json(await fetch(gw.url + '/getUsers'));
  assert.equal(status, 200);
  assert.deepEqual(body[0], { id: '1', userName: 'john_doe', email: 'john@example.com', events: ['event-1', 'event-3'] });
  assert.equal(body.length, 3);
});

test('GET /getEvents', async () => {
  const { status, body } = await json(await fetch(gw.url + '/getEvents'));
  assert.equal(status, 200);
  assert.deepEqual(body.map((e) => e.id), ['event-1', 'event-2', 'event-3', 'event-4']);
  assert.deepEqual(Object.keys(body[0]).sort(), ['details', 'id', 'name', 'userId']);
});

test('GET /getEventsByUserId/:id', async () => {
  const ok = await json(await fetch(gw.url + '/getEventsByUserId/1'));
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body.map((e) => e.id), ['event-1', 'event-3']);
  const missing = await json(await fetch(gw.url + '/getEventsByUserId/999'));
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error, 'User not found');
});

test('POST /addEvent: 200, 400, then 503 with Retry-After once the upstream fails', async () => {
  const post = (body, headers = {}) => fetch(gw.url + '/addEvent', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const bad = await json(await post('{"name": "x", "userId": 3}'));
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'Invalid input');
  assert.match(bad.body.message, /^userId: must be a string/);

  const statuses = [];
  let created;
  let unavailable;
  for (let i = 0; i < 8; i++) {
    const res = await post({ name: `Meetup ${i}`, userId: '2', details: 'rest' });
    statuses.push(res.status);
    const body = await res.json();
    if (res.status === 200) created = body.event;
    if (res.status === 503) unavailable = { body, retryAfter: res.headers.get('retry-after') };
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 503, 503, 503]);
  assert.equal(created.userId, '2');
  assert.equal(unavailable.body.success, false);
  assert.equal(unavailable.body.error, 'Service temporarily unavailable');
  assert.equal(unavailable.body.circuitBreakerState, 'OPEN');
  assert.equal(String(unavailable.body.retryAfter), unavailable.retryAfter);

  const events = await json(await fetch(gw.url + '/getEventsByUserId/2'));
  assert.ok(events.body.some((e) => e.id === created.id));
});

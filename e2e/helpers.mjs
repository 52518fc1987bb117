// Starts the real server binary ($GATEWAY_BIN) on the embedded simulator, on
// a free loopback port, and stops it. Each test file gets its own server, so
// files can run in parallel and the addEvent failure cycle starts fresh.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { before, after } from 'node:test';

export async function startGateway(env = {}) {
  const bin = process.env.GATEWAY_BIN;
  if (!bin) throw new Error('GATEWAY_BIN is not set: run the suite with e2e/run.sh');
  const child = spawn(bin, [], {
    env: {
      ...process.env,
      PORT: '0',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      SIM_EVENT_DELAY: '50ms',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines = createInterface({ input: child.stderr });
  const logs = [];
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start in 30 s:\n' + logs.join('\n'))), 30000);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${logs.join('\n')}`)));
    lines.on('line', (line) => {
      logs.push(line);
      try {
        const rec = JSON.parse(line);
        if (rec.msg === 'gateway listening') {
          clearTimeout(timer);
          resolve('http://127.0.0.1:' + rec.addr.split(':').pop());
        }
      } catch { /* not JSON */ }
    });
  });
  return {
    url,
    logs,
    stop: () => new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    }),
  };
}

// Reads the gateway's Prometheus metrics as { 'name{labels}': value }, for
// tests that show what the entity cache did (a missing series is 0).
export async function metrics(url) {
  const text = await (await fetch(url + '/metrics')).text();
  const out = {};
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out[line.slice(0, cut)] = Number(line.slice(cut + 1));
  }
  return new Proxy(out, { get: (o, k) => (typeof k === 'string' ? o[k] ?? 0 : o[k]) });
}

// A fetch that records each answer's status, headers and body text, for
// clients (Apollo's HttpLink, urql) that take a fetch of their own.
export function recordingFetch() {
  const seen = [];
  const wrapped = async (input, init = {}) => {
    const res = await fetch(input, init);
    const body = await res.clone().text();
    seen.push({ method: (init.method || 'GET').toUpperCase(), url: String(input), status: res.status, headers: res.headers, body });
    return res;
  };
  return { fetch: wrapped, seen, last: () => seen[seen.length - 1] };
}

// Waits until the gateway counts `want` active eventAdded subscriptions
// (gateway_subscriptions, all transports). A client learns nothing when the
// server has registered its subscribe message (graphql-ws does not answer
// it), so a test that adds an event right after subscribing would race the
// registration; this is the deterministic point to add it at.
export async function waitForSubscriptions(url, want, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let n;
  for (;;) {
    n = (await metrics(url)).gateway_subscriptions;
    if (n === want) return;
    if (Date.now() > deadline) throw new Error(`gateway_subscriptions is ${n} after ${timeoutMs} ms, want ${want}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// Another client: plain fetch POSTs addEvent and returns the stored event.
// The simulator stores calls 1–5 of every 15, so a file makes at most 5.
export async function addEvent(url, input) {
  const res = await fetch(url + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({
      query: `mutation Add($input: AddEventInput!) {
        addEvent(input: $input) {
          __typename
          ... on AddEventSuccess { event { id name userId details } }
          ... on ServiceUnavailable { message }
          ... on InvalidInput { message }
        }
      }`,
      variables: { input },
    }),
  });
  const body = await res.json();
  const r = body.data?.addEvent;
  if (res.status !== 200 || r?.__typename !== 'AddEventSuccess') {
    throw new Error(`addEvent answered ${res.status} ${JSON.stringify(body)}`);
  }
  return r.event;
}

// A queue of the values a subscription pushes: next() resolves with the
// next one, or rejects after timeoutMs saying what it waited for; all holds
// every value pushed.
export function pushed(what) {
  const all = [];
  const values = [];
  const waiters = [];
  let failure;
  return {
    all,
    push(v) {
      all.push(v);
      const w = waiters.shift();
      if (w) w.resolve(v); else values.push(v);
    },
    fail(err) {
      failure = err;
      for (const w of waiters.splice(0)) w.reject(err);
    },
    next(timeoutMs = 10000) {
      if (values.length) return Promise.resolve(values.shift());
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${what}: nothing pushed in ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ resolve: (v) => { clearTimeout(timer); resolve(v); }, reject: (e) => { clearTimeout(timer); reject(e); } });
      });
    },
  };
}

// launchChromium starts Debian's Chromium headless with the flags this
// closed network needs (no background connections that would be refused).
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// gatewayWithBrowser starts, before a test file's tests, its own gateway
// (with gatewayEnv's extra variables) and a headless Chromium, and stops
// both after them. The returned object's gw and browser are set once the
// file's tests run.
export function gatewayWithBrowser(gatewayEnv = {}) {
  const env = {};
  before(async () => {
    env.gw = await startGateway(gatewayEnv);
    env.browser = await launchChromium();
  });
  after(async () => {
    await env.browser?.close();
    await env.gw?.stop();
  });
  return env;
}

// screenshot saves page whole as name in the artifacts folder
// ($E2E_ARTIFACTS, which e2e/run.sh sets and lists at the end).
export async function screenshot(page, name) {
  const dir = process.env.E2E_ARTIFACTS || join(process.cwd(), 'artifacts');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, name), fullPage: true });
}

// A fetch that keeps a copy of each answer's body as it arrives, for tests
// of what a streaming client (Apollo's HttpLink, urql) had received when
// it handed a result over. The client reads its own copy undisturbed.
// received(i) is the text of answer i (default: the last) so far; a
// request the client aborts (unsubscribing) just ends its copy.
export function teeFetch() {
  const texts = [];
  const wrapped = async (input, init = {}) => {
    const res = await fetch(input, init);
    const i = texts.push('') - 1;
    const copy = res.clone();
    (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of copy.body) texts[i] += decoder.decode(chunk, { stream: true });
    })().catch(() => { /* aborted by the client */ });
    return res;
  };
  return { fetch: wrapped, received: (i = texts.length - 1) => texts[i] ?? '' };
}

// Resolves after the events already queued (a chunk a client's reader just
// got, handed to every tee branch at once) have been handled.
export function afterQueuedWork() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

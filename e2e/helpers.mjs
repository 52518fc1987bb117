// Starts the real server binary ($GATEWAY_BIN) on the embedded simulator, on
// a free loopback port, and stops it. Each test file gets its own server, so
// files can run in parallel and the addEvent failure cycle starts fresh.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

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

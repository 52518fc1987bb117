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

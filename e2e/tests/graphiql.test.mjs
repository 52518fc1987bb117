// GraphiQL in headless Chromium (Debian's package, driven by playwright-core):
// the IDE page loads with no internet, a query set in the editor runs, and
// the result pane shows the data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, launchChromium } from '../helpers.mjs';

const artifacts = process.env.E2E_ARTIFACTS || join(process.cwd(), 'artifacts');

let gw;
let browser;
before(async () => {
  gw = await startGateway();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await gw?.stop();
});

test('GraphiQL loads, runs a query and shows the result', async () => {
  const page = await browser.newPage();
  const failed = [];
  page.on('requestfailed', (r) => failed.push(r.url()));
  page.on('pageerror', (e) => failed.push('page error: ' + e.message));
  await page.goto(gw.url + '/', { waitUntil: 'load' });
  await page.waitForSelector('.graphiql-container', { timeout: 30000 });

  // Set the query through the editor (CodeMirror), then run it.
  const query = '{ user(id: "1") { userName events { id name } } }';
  await page.waitForFunction(() => document.querySelector('.graphiql-query-editor .CodeMirror')?.CodeMirror, null, { timeout: 30000 });
  await page.evaluate((q) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(q), query);
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(() => document.querySelector('.result-window')?.textContent.includes('Workshop'), null, { timeout: 30000 });
  const result = await page.textContent('.result-window');
  assert.match(result, /john_doe/);
  assert.match(result, /event-3/);

  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'graphiql.png'), fullPage: true });
  assert.deepEqual(failed, [], 'requests failed or page errors: ' + failed.join(', '));
});

// GraphiQL in headless Chromium (Debian's package, driven by playwright-core):
// the IDE page loads with no internet, a query set in the editor runs, and
// the result pane shows the data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayWithBrowser, screenshot } from '../helpers.mjs';

const env = gatewayWithBrowser();

test('GraphiQL loads, runs a query and shows the result', async () => {
  const page = await env.browser.newPage();
  const failed = [];
  page.on('requestfailed', (r) => failed.push(r.url()));
  page.on('pageerror', (e) => failed.push('page error: ' + e.message));
  await page.goto(env.gw.url + '/', { waitUntil: 'load' });
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

  await screenshot(page, 'graphiql.png');
  assert.deepEqual(failed, [], 'requests failed or page errors: ' + failed.join(', '));
});

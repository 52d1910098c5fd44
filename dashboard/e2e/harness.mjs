// End-to-end harness: Debian's headless Chromium driven by playwright-core (no browser download),
// against the dashboard served by e2e/stub_server.mjs (or a real Glimmer: GLIMMER_URL=http://…,
// once its dashboard component exists). Saves a screenshot of each page to e2e/artifacts/ and
// prints "N passed, N failed".
// Usage: node build.mjs && node e2e/harness.mjs
import assert from 'node:assert/strict';
import {mkdirSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

import {startStub} from './stub_server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = process.env.E2E_ARTIFACTS ?? join(here, 'artifacts');
mkdirSync(artifacts, {recursive: true});

// As root Chromium's sandbox cannot start; playwright-core already passes --no-sandbox when
// chromiumSandbox is false (its default). The network flags keep a closed machine quiet.
const LAUNCH = {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--disable-gpu', '--disable-quic', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run'],
};

const stub = process.env.GLIMMER_URL ? null : await startStub({dist: join(here, '..', 'dist')});
const base = process.env.GLIMMER_URL ?? stub.url;
const user = process.env.E2E_USER ?? 'alice';
const password = process.env.E2E_PASSWORD ?? 'secret';

const browser = await chromium.launch(LAUNCH);
const context = await browser.newContext({viewport: {width: 1280, height: 800}});
const page = await context.newPage();
const cspViolations = [];
const pageErrors = [];
page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
page.on('pageerror', (e) => pageErrors.push(e.message));

const results = [];
async function check(name, fn) {
  const t0 = performance.now();
  try {
    await fn();
    results.push([name, true]);
    console.log(`ok   ${name} (${Math.round(performance.now() - t0)} ms)`);
  } catch (e) {
    results.push([name, false]);
    console.log(`FAIL ${name}: ${e.message}`);
    await page.screenshot({path: join(artifacts, `failed-${results.length}.png`)}).catch(() => {});
  }
}
const shot = (name, fullPage = true) =>
  page.screenshot({path: join(artifacts, `${name}.png`), fullPage});

await check('a browser asking for / is sent to /dashboard/', async () => {
  const response = await page.goto(`${base}/`);
  assert.equal(new URL(page.url()).pathname, '/dashboard/');
  assert.match(response.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  assert.equal(response.headers()['cache-control'], 'no-cache');
});

await check('sign-in page', async () => {
  await page.getByLabel('User name').waitFor();
  await shot('sign-in');
});

await check('a wrong password is explained next to the form', async () => {
  await page.getByLabel('Project').fill('demo');
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill('wrong');
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByRole('alert').filter({hasText: 'password is wrong'}).waitFor();
});

await check('sign in shows the images panel', async () => {
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByRole('heading', {name: 'Images'}).waitFor();
  await page.locator('table.images tbody tr').first().waitFor();
  await shot('images-panel');
});

await check('session cookie is HttpOnly and SameSite=Strict', async () => {
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'glimmer_session');
  assert.ok(session, 'no session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie.includes('glimmer_session')), false);
});

await check('no token or session secret in the page', async () => {
  const secret = (await context.cookies()).find((c) => c.name === 'glimmer_session').value;
  const html = await page.content();
  assert.equal(html.includes(secret), false);
  assert.equal(/X-Auth-Token|gAAAA/i.test(html), false);
});

await check('a state-changing call without the CSRF header is refused', async () => {
  const status = await page.evaluate(async () =>
    (await fetch('/dashboard/api/session', {method: 'DELETE'})).status);
  assert.equal(status, 403);
});

await check('paging: Next then Previous', async () => {
  const first = await page.locator('table.images tbody tr td[data-label=Name]').first().textContent();
  await page.getByRole('button', {name: 'Next'}).click();
  await page.getByText('Page 2').waitFor();
  const second = await page.locator('table.images tbody tr td[data-label=Name]').first().textContent();
  assert.notEqual(first, second);
  await page.getByRole('button', {name: 'Previous'}).click();
  await page.getByText('Page 1').waitFor();
});

await check('sorting by name asks the server', async () => {
  const request = page.waitForRequest((r) => r.url().includes('sort=name%3Aasc'));
  await page.getByRole('button', {name: 'Name', exact: true}).click();
  await request;
  await page.locator('th[aria-sort=ascending]').waitFor();
});

await check('phone width', async () => {
  await page.setViewportSize({width: 390, height: 844});
  await shot('images-panel-phone', false);
  await page.setViewportSize({width: 1280, height: 800});
});

await check('sign out returns to the sign-in form', async () => {
  await page.getByRole('button', {name: 'Sign out'}).click();
  await page.getByLabel('User name').waitFor();
});

await check('no CSP violation and no script error on any page', async () => {
  assert.deepEqual(cspViolations, []);
  assert.deepEqual(pageErrors, []);
});

await browser.close();
stub?.close();
const failed = results.filter(([, ok]) => !ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

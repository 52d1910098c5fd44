// End-to-end walk through every page: Debian's headless Chromium driven by playwright-core (no
// browser download), against the dashboard served by e2e/stub_server.mjs, or against an
// already-running glimmer with GLIMMER_URL=http://127.0.0.1:9292. Against a real server the data
// must be there first (tests/integration/test_dashboard_e2e.py seeds it): E2E_USER / E2E_PASSWORD
// (default alice / secret), a member of E2E_PROJECT (demo) and E2E_OTHER_PROJECT (o'brien lab);
// E2E_ADMIN_USER / E2E_ADMIN_PASSWORD, an admin; images in E2E_PROJECT (at least E2E_MIN_IMAGES,
// some active qcow2 of 100 MiB or more), public images with os_distro set, quotas set; web-download
// allowed to 127.0.0.1:E2E_SOURCE_PORT (the local HTTP server's port). Checks that need the real
// openstack CLI run only against a real server ("skip" in stub mode). Saves a screenshot of each
// page (and at phone width) to E2E_ARTIFACTS (default e2e/artifacts/), and prints
// "N passed, N failed, N skipped".
// Usage: node build.mjs && node e2e/harness.mjs
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {createServer} from 'node:http';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

import {humanSize} from '../src/lib/units.js';
import * as ui from './pages.mjs';
import {startStub} from './stub_server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = process.env.E2E_ARTIFACTS ?? join(here, 'artifacts');
mkdirSync(artifacts, {recursive: true});
const work = mkdtempSync(join(tmpdir(), 'dashboard-e2e-'));
const MiB = 1024 ** 2;

const stub = process.env.GLIMMER_URL ? null : await startStub({dist: join(here, '..', 'dist'), imageCount: 120});
const base = process.env.GLIMMER_URL ?? stub.url;
const user = process.env.E2E_USER ?? 'alice';
const password = process.env.E2E_PASSWORD ?? 'secret';
const project = process.env.E2E_PROJECT ?? 'demo';
const otherProject = process.env.E2E_OTHER_PROJECT ?? "o'brien lab";
const adminUser = process.env.E2E_ADMIN_USER ?? 'admin';
const adminPassword = process.env.E2E_ADMIN_PASSWORD ?? password;
const minImages = Number(process.env.E2E_MIN_IMAGES ?? 0);
const rawMiB = Number(process.env.E2E_RAW_MIB ?? 300);
const run = Date.now().toString(36);

// Test files: a raw disk of 300 MiB with an MBR, a qcow2 of 5 GiB virtual size (qemu-img), a
// file for cancel, and a local HTTP server for web-download (with a small raw disk).
// A raw disk with one Linux partition from LBA 2048 to the end: a valid MBR (the server's safety
// check, like Glance's, refuses an MBR signature without partitions).
function rawDisk(size) {
  const disk = Buffer.alloc(size);
  for (let i = 0; i < disk.length; i += 4096) disk[i] = i & 0xff;
  disk[446 + 4] = 0x83;
  disk.writeUInt32LE(2048, 446 + 8);
  disk.writeUInt32LE(disk.length / 512 - 2048, 446 + 12);
  disk[510] = 0x55; disk[511] = 0xaa;
  return disk;
}
const rawPath = join(work, 'disk.raw');
const raw = rawDisk(rawMiB * MiB);
writeFileSync(rawPath, raw);
const small = rawDisk(4 * MiB);
const qcowPath = join(work, 'disk.qcow2');
execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', qcowPath, '5G']);
const bigPath = join(work, 'big.raw');
writeFileSync(bigPath, Buffer.alloc(96 * MiB, 1));
const source = createServer((req, res) => {
  if (req.url === '/cirros.img') { res.writeHead(200, {'Content-Length': small.length}); res.end(small); } else { res.writeHead(404); res.end('no'); }
});
await new Promise((r) => source.listen(Number(process.env.E2E_SOURCE_PORT ?? 0), '127.0.0.1', r));
const sourceUrl = `http://127.0.0.1:${source.address().port}`;

const browser = await ui.launch();
let page = await ui.newPage(browser);

const results = [];
async function check(name, fn, {realOnly = false} = {}) {
  if (realOnly && stub) { results.push([name, 'skip']); console.log(`skip ${name} (needs a real server)`); return; }
  const t0 = performance.now();
  try {
    await fn();
    results.push([name, 'ok']);
    console.log(`ok   ${name} (${Math.round(performance.now() - t0)} ms)`);
  } catch (e) {
    results.push([name, 'fail']);
    console.log(`FAIL ${name}: ${e.message.split('\n').slice(0, 6).join('\n     ')}`);
    await page.screenshot({path: join(artifacts, `failed-${results.length}.png`)}).catch(() => {});
    // Leave no dialog open for the next check.
    for (let i = 0; i < 3 && await page.locator('dialog[open]').count(); i++) await page.keyboard.press('Escape');
  }
}
let openrcPath = null;
const shot = (name) => ui.shot(page, artifacts, name);
const phone = (name) => ui.phoneShot(page, artifacts, `${name}-phone`);

// ---- serving and sign-in ----------------------------------------------------------------------

await check('a browser asking for / is sent to /dashboard/ with CSP and no-cache', async () => {
  const response = await page.goto(`${base}/`);
  assert.equal(new URL(page.url()).pathname, '/dashboard/');
  assert.match(response.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  assert.equal(response.headers()['x-content-type-options'], 'nosniff');
  assert.equal(response.headers()['cache-control'], 'no-cache');
});

await check('sign-in page', async () => {
  await page.getByLabel('User name').waitFor();
  await shot('sign-in');
  await phone('sign-in');
});

await check('a wrong password is explained next to the form, and the password is cleared', async () => {
  await ui.signIn(page, {project, user, password: 'wrong'});
  await page.getByRole('alert').filter({hasText: 'password is wrong'}).waitFor();
  assert.equal(await page.getByLabel('Password').inputValue(), '');
});

await check('sign in shows the images panel', async () => {
  await ui.signIn(page, {project, user, password});
  await ui.expectSignedIn(page);
  await page.getByRole('heading', {name: 'Images', level: 1}).waitFor();
  await ui.imageRows(page).first().waitFor();
  await shot('images-panel');
  await ui.shot(page, artifacts, 'images-panel-1280x800', false);  // the README's screenshot
  await phone('images-panel');
});

await check('session cookie is HttpOnly and SameSite=Strict, invisible to scripts', async () => {
  const session = (await page.context().cookies()).find((c) => c.name === 'glimmer_session');
  assert.ok(session, 'no session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(session.path, '/dashboard/');
  assert.equal(await page.evaluate(() => document.cookie.includes('glimmer_session')), false);
});

await check('no token or session secret in the page or storage', async () => {
  const secret = (await page.context().cookies()).find((c) => c.name === 'glimmer_session').value;
  const html = await page.content();
  const storage = await page.evaluate(() => JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage}));
  assert.equal(html.includes(secret) || storage.includes(secret), false);
  assert.equal(/X-Auth-Token|X-Subject-Token|gAAAA/i.test(html), false);
});

await check('a state-changing call without the CSRF header is refused', async () => {
  const status = await page.evaluate(async () => (await fetch('/dashboard/api/session', {method: 'DELETE'})).status);
  assert.equal(status, 403);
});

// ---- list: tabs, filters, sort, paging, refresh -----------------------------------------------

await check('tabs: arrow keys move between tabs; Public adds OS and login user', async () => {
  await page.getByRole('tab', {name: 'Project'}).focus();
  await page.keyboard.press('ArrowRight');
  await page.locator('[role=tab][aria-selected=true]', {hasText: 'Shared with me'}).waitFor();
  await page.keyboard.press('ArrowRight');
  await page.locator('[role=tab][aria-selected=true]', {hasText: 'Public'}).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Public');
  await page.getByRole('columnheader', {name: 'Login user'}).waitFor();
  assert.match(page.url(), /tab=public/);
  await page.locator('table.images td[data-label=OS]', {hasText: /ubuntu|debian|fedora|windows/}).first().waitFor();
  await shot('images-public');
  await ui.selectTab(page, 'Project');
});

await check('filters map to the query and live in the URL (reload keeps them)', async () => {
  const request = page.waitForRequest((r) => r.url().includes('/v2/images?') && r.url().includes('size_min='));
  await ui.filterImages(page, {status: 'active', format: 'qcow2', size_min: '100', unit: 'MiB'});
  const url = new URL((await request).url());
  assert.equal(url.searchParams.get('owner').length, 32);
  assert.equal(url.searchParams.get('status'), 'active');
  assert.equal(url.searchParams.get('size_min'), String(100 * MiB));
  const names = await ui.listedNames(page);
  assert.ok(names.length > 0);
  await page.reload();
  await page.locator('table.images[aria-busy=false]').waitFor();
  assert.equal(await page.getByLabel('Format', {exact: true}).inputValue(), 'qcow2');
  assert.deepEqual(await ui.listedNames(page), names);
  await shot('images-filtered');
  await ui.clearFilters(page);
});

await check('a bad size is explained next to the field and not sent', async () => {
  const form = page.getByRole('search', {name: 'Filter images'});
  await form.getByLabel('From', {exact: true}).fill('5');
  await form.getByLabel('To', {exact: true}).fill('1');
  await page.getByText('The largest size is smaller than the smallest.').waitFor();
  assert.equal(await form.getByRole('button', {name: 'Apply filters'}).isDisabled(), true);
  await form.getByLabel('From', {exact: true}).fill('');
  await form.getByLabel('To', {exact: true}).fill('');
});

await check('paging: Next, Next, Previous, with markers in the URL', async () => {
  const first = await ui.listedNames(page);
  await ui.nextPage(page);
  const second = await ui.listedNames(page);
  assert.notDeepEqual(first, second);
  assert.match(page.url(), /m=/);
  await ui.nextPage(page);
  await ui.previousPage(page);
  assert.deepEqual(await ui.listedNames(page), second);
  await ui.previousPage(page);
  assert.deepEqual(await ui.listedNames(page), first);
});

await check(`page through every image of the project, 100 a page (at least ${minImages}); find one by name`, async () => {
  await ui.perPage(page, 100);
  const ids = [];
  let middle = null;
  for (let n = 1; ; n++) {
    await page.locator('table.images[aria-busy=false]').waitFor();
    const links = page.locator('table.images tbody td[data-label=Name] a');
    const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.ok(hrefs.length <= 100, `page ${n} has ${hrefs.length} rows`);
    ids.push(...hrefs);
    if (n === 2) middle = (await links.allTextContents())[37];
    if (await page.getByRole('button', {name: 'Next'}).isDisabled()) break;
    await ui.nextPage(page);
  }
  assert.equal(new Set(ids).size, ids.length, 'an image was listed twice');
  const expected = await page.evaluate(async () => {
    const session = await (await fetch('/dashboard/api/session')).json();
    let url = `/dashboard/api/v2/images?owner=${session.project.id}&limit=1000`;
    let count = 0;
    while (url) {
      const body = await (await fetch(url)).json();
      count += body.images.length;
      url = body.next ? `/dashboard/api${body.next}` : null;
    }
    return count;
  });
  assert.equal(ids.length, expected);
  assert.ok(ids.length >= minImages, `${ids.length} images listed, expected at least ${minImages}`);
  await shot('images-last-page');
  await ui.perPage(page, 25);
  if (middle) {
    await ui.filterImages(page, {name: middle});
    const found = await ui.listedNames(page);
    assert.ok(found.length >= 1 && found.every((n) => n === middle), `filter by ${middle}: ${found}`);
    await ui.clearFilters(page);
    await page.locator('table.images[aria-busy=false]').waitFor();
  }
});

await check('sorting by name asks the server', async () => {
  const request = page.waitForRequest((r) => r.url().includes('sort=name%3Aasc'));
  await page.getByRole('button', {name: 'Name', exact: true}).click();
  await request;
  await page.locator('th[aria-sort=ascending]').waitFor();
  const names = await ui.listedNames(page);
  assert.deepEqual(names, [...names].sort());
  await ui.changeList(page, () => page.getByRole('button', {name: /^Created/}).click());
  await page.locator('th[aria-sort=ascending]', {hasText: 'Created'}).waitFor();
});

// ---- create image -----------------------------------------------------------------------------

await check('create from a raw file: progress to 100 %, then active; checksum matches', async () => {
  const dialog = await ui.openCreateDialog(page);
  await shot('create-dialog');
  await phone('create-dialog');
  await ui.fillCreate(dialog, {file: rawPath, name: `raw-${run}`, os: 'cirros', osVersion: '0.6', loginUser: 'cirros',
                               properties: [['hw_qemu_guest_agent', 'yes']]});
  assert.equal(await dialog.getByLabel('Format', {exact: true}).inputValue(), 'raw');
  assert.equal(await dialog.getByLabel('Minimum disk (GiB)').inputValue(), '1');
  const put = page.waitForRequest((r) => r.method() === 'PUT' && r.url().endsWith('/file'));
  await ui.recordProgress(page, `raw-${run}`);
  const job = await ui.submitCreate(dialog, `raw-${run}`);
  const headers = (await put).headers();
  assert.equal(headers['x-openstack-image-size'], String(raw.length));
  assert.equal(headers['content-type'], 'application/octet-stream');
  assert.ok(headers['x-glimmer-csrf']);
  await ui.waitForPhase(job, 'Active');
  // The bar went up to 100 % of the file's size, never backwards.
  const seen = await ui.recordedProgress(page);
  const percents = seen.map((t) => Number(t.split(' %')[0]));
  assert.deepEqual(percents, [...percents].sort((a, b) => a - b), `progress went backwards: ${seen}`);
  const whole = humanSize(raw.length);
  assert.ok(seen.some((t) => t.startsWith(`100 %, ${whole} of ${whole}`)), `no 100 % in ${seen.join(' | ')}`);
  console.log(`     progress: ${seen.length} values, ${seen.slice(0, 2).concat(seen.slice(-1)).join(' | ')}`);
  await shot('create-done');
  await ui.closeDialog(page);
  await ui.selectTab(page, 'Project');
  await ui.filterImages(page, {name: `raw-${run}`});
  await ui.openImage(page, `raw-${run}`);
  const md5 = (await import('node:crypto')).createHash('md5').update(raw).digest('hex');
  await page.getByText(md5).waitFor();
  await page.getByText('hw_qemu_guest_agent').waitFor();
  await shot('image-detail');
  await phone('image-detail');
});

await check('a qcow2: the format is detected and min disk pre-filled from its 5 GiB virtual size', async () => {
  await ui.nav(page, 'Images');
  const dialog = await ui.openCreateDialog(page);
  await ui.fillCreate(dialog, {file: qcowPath, name: `qcow-${run}`});
  assert.equal(await dialog.getByLabel('Format', {exact: true}).inputValue(), 'qcow2');
  assert.equal(await dialog.getByLabel('Minimum disk (GiB)').inputValue(), '5');
  await dialog.getByText('virtual size in the QCOW2 header').waitFor();
  await dialog.getByLabel('Minimum disk (GiB)').scrollIntoViewIfNeeded();
  await ui.shot(page, artifacts, 'create-dialog-1280x800', false);  // the README's screenshot
  const created = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/v2/images'));
  const job = await ui.submitCreate(dialog, `qcow-${run}`);
  const id = (await (await created).json()).id;
  await ui.waitForPhase(job, 'Active');
  assert.equal(await job.locator('.warning').count(), 0, 'no min-disk warning expected');
  const image = await page.evaluate(async (i) => (await fetch(`/dashboard/api/v2/images/${i}`)).json(), id);
  const md5 = (await import('node:crypto')).createHash('md5').update(readFileSync(qcowPath)).digest('hex');
  assert.equal(image.checksum, md5);
  assert.equal(image.virtual_size, 5 * 1024 * MiB);
  await ui.closeDialog(page);
});

await check('min disk too small: a warning after upload, fixed with one click', async () => {
  const dialog = await ui.openCreateDialog(page);
  await ui.fillCreate(dialog, {file: qcowPath, name: `qcow-small-${run}`, minDisk: 1});
  const job = await ui.submitCreate(dialog, `qcow-small-${run}`);
  await ui.waitForPhase(job, 'Active');
  await job.getByText('instances would get a disk too small').waitFor();
  await shot('create-min-disk-warning');
  await job.getByRole('button', {name: 'Set minimum disk to 5 GiB'}).click();
  await page.locator('.toast', {hasText: 'set to 5 GiB'}).waitFor();
  await ui.closeDialog(page);
});

await check('a qcow2 file with Format = raw is flagged before upload; Create stays disabled', async () => {
  const dialog = await ui.openCreateDialog(page);
  await ui.fillCreate(dialog, {file: qcowPath, name: `mismatch-${run}`});
  await dialog.getByLabel('Format', {exact: true}).selectOption('raw');
  await dialog.getByText('looks like QCOW2, not RAW').waitFor();
  assert.equal(await ui.createButton(dialog).isDisabled(), true);
  await shot('create-mismatch');
  await dialog.getByLabel(/Upload anyway/).check();
  assert.equal(await ui.createButton(dialog).isDisabled(), false);
  await dialog.getByLabel('Format', {exact: true}).selectOption('qcow2');
  assert.equal(await dialog.getByText('looks like QCOW2').count(), 0);
  await dialog.getByRole('button', {name: 'Cancel'}).click();
});

await check('missing fields are explained next to them', async () => {
  const dialog = await ui.openCreateDialog(page);
  await ui.createButton(dialog).click();
  await dialog.getByText('Give the image a name.').waitFor();
  await dialog.getByText('Choose the image file to upload.').waitFor();
  const described = await dialog.getByLabel('Name', {exact: true}).getAttribute('aria-describedby');
  assert.match(described, /ci-name-error/);
  await dialog.getByRole('button', {name: 'Cancel'}).click();
});

await check('cancel an upload: the image is deleted and GET answers 404', async () => {
  // A real server takes 96 MiB from loopback in well under a second: the browser's own network
  // throttling keeps the upload running until Cancel is pressed (the stub is slow by itself).
  const cdp = stub ? null : await page.context().newCDPSession(page);
  await cdp?.send('Network.enable');
  await cdp?.send('Network.emulateNetworkConditions', {offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 8 * MiB});
  const dialog = await ui.openCreateDialog(page);
  await ui.fillCreate(dialog, {file: bigPath, name: `slow-cancel-${run}`});
  const created = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/v2/images'));
  const job = await ui.submitCreate(dialog, `slow-cancel-${run}`);
  const id = (await (await created).json()).id;
  await job.locator('.job-numbers', {hasText: /MiB\/s/}).waitFor();
  await shot('create-progress');
  const del = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().includes(id));
  await job.getByRole('button', {name: 'Cancel upload'}).click();
  assert.equal((await del).status(), 204);
  await ui.waitForPhase(job, 'Cancelled', 15_000);
  await cdp?.send('Network.emulateNetworkConditions', {offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1});
  await cdp?.detach();
  const status = await page.evaluate(async (i) => (await fetch(`/dashboard/api/v2/images/${i}`)).status, id);
  assert.equal(status, 404);
  await ui.closeDialog(page);
});

await check('create from a URL (web-download): task progress, then active', async () => {
  const dialog = await ui.openCreateDialog(page);
  await ui.fillCreate(dialog, {url: `${sourceUrl}/cirros.img`, name: `url-${run}`, minDisk: 1});
  const job = await ui.submitCreate(dialog, `url-${run}`);
  await ui.waitForPhase(job, 'Active', 30_000);
  await ui.closeDialog(page);
});

await check('a bad URL shows the task\'s message', async () => {
  const dialog = await ui.openCreateDialog(page);
  await ui.fillCreate(dialog, {url: `${sourceUrl}/missing.img`, name: `badurl-${run}`});
  const job = await ui.submitCreate(dialog, `badurl-${run}`);
  await ui.waitForPhase(job, 'Failed', 30_000);
  await job.getByText(/404/).waitFor();
  await shot('create-url-failed');
  await job.getByRole('button', {name: 'Delete the empty image'}).click();
  await page.locator('dialog[open]').waitFor({state: 'detached'});
  await page.locator('.toast', {hasText: `Deleted "badurl-${run}"`}).waitFor();
});

// ---- detail: edit, deactivate, reactivate, delete -----------------------------------------------

await check('edit sends one JSON-patch of the changed fields', async () => {
  await ui.nav(page, 'Images');
  await ui.filterImages(page, {name: `raw-${run}`});
  await ui.openImage(page, `raw-${run}`);
  const {contentType, ops} = await ui.editImage(page, {description: 'edited', minRam: 512, tags: 'e2e, base', protected: true});
  assert.equal(contentType, 'application/openstack-images-v2.1-json-patch');
  assert.deepEqual(ops.map((o) => `${o.op} ${o.path}`).sort(),
                   ['add /description', 'replace /min_ram', 'replace /protected', 'replace /tags'].sort());
  await page.locator('.toast', {hasText: 'Saved 4 changes'}).waitFor();
  await page.getByText('edited').waitFor();
});

await check('a protected image cannot be deleted, and says why', async () => {
  const del = page.getByRole('button', {name: 'Delete', exact: true});
  assert.equal(await del.isDisabled(), true);
  await page.getByText('Protected: turn protection off').waitFor();
  await ui.editImage(page, {protected: false});
  assert.equal(await del.isDisabled(), false);
});

await check('deactivate and reactivate', async () => {
  await ui.deactivate(page);
  await page.locator('.toast', {hasText: 'Deactivated'}).waitFor();
  await ui.reactivate(page);
});

await check('download link points at the image data', async () => {
  const href = await page.getByRole('link', {name: /^Download/}).getAttribute('href');
  assert.match(href, /^\/dashboard\/api\/v2\/images\/[^/]+\/file$/);
  const status = await page.evaluate(async (h) => (await fetch(h)).status, href);
  assert.equal(status, 200);
});

// ---- sharing ----------------------------------------------------------------------------------

await check('share with another project by name: private becomes shared, with a note', async () => {
  await ui.shareWith(page, otherProject);
  await page.getByText('The image was private; it is now "shared"').waitFor();
  await page.locator('table.members td', {hasText: 'pending'}).waitFor();
  await shot('image-shared');
});

await check('the other project accepts from the Shared tab, sees it, then rejects', async () => {
  await ui.nav(page, 'Images');
  await ui.switchProject(page, otherProject);
  await ui.selectTab(page, 'Shared with me');
  await page.locator('table.images').getByRole('link', {name: `raw-${run}`, exact: true}).waitFor();
  await shot('images-shared-pending');
  await ui.answerInvitation(page, `raw-${run}`, 'Accept');
  await page.locator('.toast', {hasText: 'Accepted "'}).waitFor();
  await ui.setInvitationFilter(page, 'accepted');
  await page.locator('table.images').getByRole('link', {name: `raw-${run}`, exact: true}).waitFor();
  await ui.answerInvitation(page, `raw-${run}`, 'Reject');
  await ui.setInvitationFilter(page, 'rejected');
  await page.locator('table.images').getByRole('link', {name: `raw-${run}`, exact: true}).waitFor();
  await ui.switchProject(page, project);
});

await check('delete with confirmation; the image is gone', async () => {
  await ui.filterImages(page, {name: `raw-${run}`});
  await ui.openImage(page, `raw-${run}`);
  await ui.deleteImage(page);
  await page.locator('.toast', {hasText: `Deleted "raw-${run}"`}).waitFor();
  await ui.filterImages(page, {name: `raw-${run}`});
  assert.deepEqual(await ui.listedNames(page), []);
  await ui.clearFilters(page);
});

// ---- usage and API access ---------------------------------------------------------------------

await check('usage page: a meter per limited quota, unlimited ones said so', async () => {
  await ui.nav(page, 'Usage');
  await page.locator('meter').first().waitFor();
  await page.getByText(/ of /).first().waitFor();
  await page.getByText('unlimited').first().waitFor();
  await shot('usage');
  await phone('usage');
});

await check('API access: the openrc downloads, passes bash -n, and sources with a password', async () => {
  await ui.nav(page, 'API access');
  await page.getByText('openstack image list').waitFor();
  await shot('api-access');
  await phone('api-access');
  const path = openrcPath = await ui.downloadOpenrc(page, work);
  execFileSync('bash', ['-n', path], {env: {PATH: process.env.PATH}});
  const text = readFileSync(path, 'utf8');
  assert.doesNotMatch(text, new RegExp(password));
  const out = execFileSync('bash', ['-c', `. '${path}' && echo "$OS_PROJECT_NAME|$OS_PASSWORD|$OS_IMAGE_API_VERSION"`],
                           {input: 'fake pw\n', env: {PATH: process.env.PATH}}).toString().trim();
  assert.equal(out, `${project}|fake pw|2`);
});

// ---- session: expiry overlay, project switch, sign out -----------------------------------------

await check('the downloaded openrc drives the openstack CLI: `openstack image list` shows the image', async () => {
  const out = execFileSync('bash', ['-c', `. '${openrcPath}' >/dev/null && exec openstack image list -f value -c Name`],
                           {input: `${password}\n`, env: {PATH: '/usr/bin:/bin', HOME: work, LANG: 'C.UTF-8'},
                            timeout: 120_000}).toString();
  const names = out.split('\n');
  assert.ok(names.includes(`qcow-${run}`), `qcow-${run} not in the ${names.length - 1} names listed`);
  assert.ok(names.length > minImages, `${names.length - 1} names listed`);
}, {realOnly: true});

await check('a 401 mid-session shows the sign-in overlay and keeps the page', async () => {
  if (stub) {
    stub.state.sessions.clear();
  } else {
    // The session ends elsewhere (signed out in another tab): the server revokes its token.
    const status = await page.evaluate(async () => {
      const {csrf_token: csrf} = await (await fetch('/dashboard/api/session')).json();
      return (await fetch('/dashboard/api/session', {method: 'DELETE', headers: {'X-Glimmer-CSRF': csrf}})).status;
    });
    assert.equal(status, 204);
  }
  await ui.nav(page, 'Usage');
  const overlay = page.getByRole('dialog', {name: 'Your session has ended'});
  await overlay.waitFor();
  await shot('session-ended');
  await overlay.getByLabel('Password').fill(password);
  await overlay.getByRole('button', {name: 'Sign in'}).click();
  await overlay.waitFor({state: 'detached'});
  await page.getByRole('heading', {name: 'Usage', level: 1}).waitFor();
});

await check('admins get the All tab with owner names', async () => {
  await ui.signOut(page);
  await ui.signIn(page, {user: adminUser, password: adminPassword});
  await ui.expectSignedIn(page);
  assert.equal(await page.locator('.tray').count(), 0, "the previous user's uploads must not show");
  await ui.nav(page, 'Images');
  await ui.selectTab(page, 'All');
  await page.locator('table.images td[data-label=Owner]', {hasText: 'demo'}).first().waitFor();
  await shot('images-all-admin');
});

await check('sign out returns to the sign-in form', async () => {
  await ui.signOut(page);
});

await check('no CSP violation and no script error on any page', async () => {
  assert.deepEqual(page.problems, []);
});

await browser.close();
stub?.close();
source.close();
rmSync(work, {recursive: true, force: true});
const count = (k) => results.filter(([, r]) => r === k).length;
console.log(`${count('ok')} passed, ${count('fail')} failed, ${count('skip')} skipped; screenshots in ${artifacts}`);
process.exit(count('fail') ? 1 : 0);

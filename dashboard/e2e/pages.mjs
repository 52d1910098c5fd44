// Page-driving helpers for the dashboard's end-to-end tests: one function per user action,
// written against roles and labels (what a user sees), so the same helpers drive the stub
// (e2e/stub_server.mjs) and a real glimmer (GLIMMER_URL). Every wait has a timeout; a helper
// that fails throws with what it was waiting for.
import {join} from 'node:path';
import {chromium} from 'playwright-core';

// As root Chromium's sandbox cannot start; playwright-core already passes --no-sandbox when
// chromiumSandbox is false (its default). The network flags keep a closed machine quiet.
export const LAUNCH = {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--disable-gpu', '--disable-quic', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run'],
};

export const launch = () => chromium.launch(LAUNCH);

/** A new page that records CSP violations and script errors in `page.problems`. */
export async function newPage(browser, {width = 1280, height = 800} = {}) {
  const context = await browser.newContext({viewport: {width, height}, acceptDownloads: true});
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) page.problems.push(`CSP: ${m.text()}`); });
  page.on('pageerror', (e) => page.problems.push(`script error: ${e.message}`));
  return page;
}

export const shot = (page, dir, name, fullPage = true) =>
  page.screenshot({path: join(dir, `${name}.png`), fullPage});

/** Screenshot at phone width (390×844), then back to the previous size. */
export async function phoneShot(page, dir, name) {
  const size = page.viewportSize();
  await page.setViewportSize({width: 390, height: 844});
  await page.waitForTimeout(100);
  await shot(page, dir, name, false);
  await page.setViewportSize(size);
}

// ---- session ----------------------------------------------------------------------------------

export async function signIn(page, {domain = 'Default', project = '', user, password}) {
  await page.getByLabel('User name').waitFor();
  await page.getByLabel('Domain').fill(domain);
  await page.getByLabel('Project').fill(project);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', {name: 'Sign in'}).click();
}

/** Signed in: the shell is there (the page shown is whatever the URL's hash says). */
export async function expectSignedIn(page) {
  await page.getByRole('button', {name: 'Sign out'}).waitFor();
}

export async function signOut(page) {
  await page.getByRole('button', {name: 'Sign out'}).click();
  await page.getByLabel('User name').waitFor();
}

export async function switchProject(page, name) {
  await page.getByRole('combobox', {name: 'Project', exact: true}).selectOption({label: name});
  await page.locator('.toast', {hasText: `Switched to project ${name}`}).waitFor();
}

export async function nav(page, label) {
  await page.getByRole('navigation', {name: 'Main'}).getByRole('link', {name: label}).click();
  await page.getByRole('heading', {level: 1}).filter({hasText: label === 'API access' ? 'API access' : label}).waitFor();
}

// ---- images list ------------------------------------------------------------------------------

export const imageRows = (page) => page.locator('table.images tbody tr');

/** The names in the list, once it has finished loading. */
export async function listedNames(page) {
  await page.locator('table.images[aria-busy=false]').waitFor();
  return page.locator('table.images tbody td[data-label=Name]').allTextContents();
}

export async function selectTab(page, label) {
  await page.getByRole('tab', {name: label}).click();
  await page.locator(`[role=tab][aria-selected=true]`, {hasText: label}).waitFor();
}

/** Fills the filter form ({name, status, visibility, format, tags, protected, size_min, size_max, unit}) and applies it. */
export async function filterImages(page, filters) {
  const form = page.getByRole('search', {name: 'Filter images'});
  const selects = {status: 'Status', visibility: 'Visibility', format: 'Format', protected: 'Protected', unit: 'Unit'};
  const inputs = {name: 'Name', tags: 'Tags', size_min: 'From', size_max: 'To'};
  for (const [key, value] of Object.entries(filters)) {
    if (selects[key]) await form.getByLabel(selects[key], {exact: true}).selectOption(String(value));
    else await form.getByLabel(inputs[key], {exact: true}).fill(String(value));
  }
  await changeList(page, () => form.getByRole('button', {name: 'Apply filters'}).click());
}

export async function clearFilters(page) {
  await changeList(page, () => page.getByRole('button', {name: 'Clear filters'}).click());
}

/**
 * Runs `action` (a click that may change the list's state, the URL) and returns once the table
 * shows the rows of the new state. A changed state makes one list request (not the 2 s refresh of
 * changing rows, `id=in:`), sent after the render that marks the table busy; an unchanged state
 * makes none.
 */
export async function changeList(page, action) {
  const before = await page.evaluate(() => location.hash);
  const listRequest = page.waitForRequest((r) => /\/dashboard\/api\/v2\/images\?/.test(r.url()) &&
                                                 !/[?&]id=in(:|%3A)/i.test(r.url()))
      .catch(() => null);
  await action();
  if (await page.evaluate(() => location.hash) !== before) await listRequest;
  await page.locator('table.images[aria-busy=false]').waitFor();
}

export async function perPage(page, n) {
  await changeList(page, () => page.getByLabel('Per page').selectOption(String(n)));
  await page.getByText('Page 1', {exact: true}).waitFor();
}

export async function nextPage(page) {
  const n = await pageNumber(page);
  await page.getByRole('button', {name: 'Next'}).click();
  await page.getByText(`Page ${n + 1}`).waitFor();
  await page.locator('table.images[aria-busy=false]').waitFor();
}

export async function previousPage(page) {
  const n = await pageNumber(page);
  await page.getByRole('button', {name: 'Previous'}).click();
  await page.getByText(`Page ${n - 1}`).waitFor();
  await page.locator('table.images[aria-busy=false]').waitFor();
}

async function pageNumber(page) {
  return Number((await page.locator('.pager span').textContent()).replace(/\D/g, ''));
}

export async function openImage(page, name) {
  await page.locator('table.images tbody td[data-label=Name]').getByRole('link', {name, exact: true}).click();
  await page.getByRole('heading', {name, level: 1}).waitFor();
}

// ---- create image -----------------------------------------------------------------------------

export async function openCreateDialog(page) {
  await page.locator('.page-head').getByRole('button', {name: 'Create Image'}).click();
  const dialog = page.getByRole('dialog', {name: 'Create Image'});
  await dialog.waitFor();
  return dialog;
}

/**
 * Fills the Create Image dialog. Fields: name, file (a path), url, format, minDisk, minRam,
 * os, osVersion, loginUser, visibility, protected, properties ([[key, value]]).
 */
export async function fillCreate(dialog, f) {
  if (f.url !== undefined) {
    await dialog.getByRole('radio', {name: 'Image Location'}).check();
    await dialog.getByLabel('Image location (URL)').fill(f.url);
  }
  if (f.format) await dialog.getByLabel('Format', {exact: true}).selectOption(f.format);
  if (f.file) {
    await dialog.getByLabel('Image file', {exact: true}).setInputFiles(f.file);
    await dialog.locator('.detected').waitFor();
  }
  if (f.name !== undefined) await dialog.getByLabel('Name', {exact: true}).fill(f.name);
  if (f.minDisk !== undefined) await dialog.getByLabel('Minimum disk (GiB)').fill(String(f.minDisk));
  if (f.minRam !== undefined) await dialog.getByLabel('Minimum RAM (MiB)').fill(String(f.minRam));
  if (f.os) await dialog.getByLabel('OS', {exact: true}).fill(f.os);
  if (f.osVersion) await dialog.getByLabel('OS version').fill(f.osVersion);
  if (f.loginUser) await dialog.getByLabel('Login user').fill(f.loginUser);
  if (f.visibility) await dialog.getByLabel('Visibility').selectOption(f.visibility);
  if (f.protected) await dialog.getByRole('checkbox', {name: /Protected/}).check();
  for (const [key, value] of f.properties ?? []) {
    await dialog.getByRole('button', {name: 'Add property'}).click();
    await dialog.getByLabel('Key').last().fill(key);
    await dialog.getByLabel('Value').last().fill(value);
  }
}

export const createButton = (dialog) => dialog.getByRole('button', {name: 'Create Image'});

/** Presses Create and returns the progress view's container for this job. */
export async function submitCreate(dialog, name) {
  await createButton(dialog).click();
  const job = dialog.page().getByRole('dialog', {name: `Create Image: ${name}`}).locator('.job');
  await job.waitFor();
  return job;
}

/** Waits until a job shows `phase` (Active, Failed, Cancelled); returns the highest progress seen. */
export async function waitForPhase(job, phase, timeout = 120_000) {
  await job.locator('.phase', {hasText: phase}).waitFor({timeout});
}

/** Starts recording every distinct text of the upload bar of `name` (see recordedProgress). */
export async function recordProgress(page, name) {
  await page.evaluate((label) => {
    const seen = window.__progress = [];
    const look = () => {
      const text = document.querySelector(`progress[aria-label="${CSS.escape(label)}"]`)?.getAttribute('aria-valuetext');
      if (text && seen[seen.length - 1] !== text) seen.push(text);
    };
    new MutationObserver(look).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                       attributeFilter: ['aria-valuetext']});
  }, `Upload of ${name}`);
}

/** The texts recorded since recordProgress. */
export const recordedProgress = (page) => page.evaluate(() => window.__progress ?? []);

export async function closeDialog(page) {
  await page.locator('dialog[open] .dialog-foot').getByRole('button', {name: /^Close/}).click();
}

// ---- image detail -----------------------------------------------------------------------------

export async function editImage(page, changes) {
  await page.getByRole('button', {name: 'Edit', exact: true}).click();
  const dialog = page.getByRole('dialog', {name: /^Edit/});
  const labels = {name: 'Name', description: 'Description', minDisk: 'Minimum disk (GiB)', minRam: 'Minimum RAM (MiB)',
                  os: 'OS', osVersion: 'OS version', loginUser: 'Login user', tags: 'Tags'};
  for (const [key, value] of Object.entries(changes)) {
    if (key === 'protected') await dialog.getByRole('checkbox', {name: /Protected/})[value ? 'check' : 'uncheck']();
    else if (key === 'visibility') await dialog.getByLabel('Visibility').selectOption(value);
    else await dialog.getByLabel(labels[key], {exact: true}).fill(String(value));
  }
  const request = page.waitForRequest((r) => r.method() === 'PATCH');
  await dialog.getByRole('button', {name: 'Save'}).click();
  const sent = await request;
  await dialog.waitFor({state: 'detached'});
  return {contentType: sent.headers()['content-type'], ops: sent.postDataJSON()};
}

export async function deactivate(page) {
  await page.getByRole('button', {name: 'Deactivate'}).click();
  await page.locator('.detail .page-head .status', {hasText: 'deactivated'}).waitFor();
}

export async function reactivate(page) {
  await page.getByRole('button', {name: 'Reactivate'}).click();
  await page.locator('.detail .page-head .status', {hasText: 'active'}).waitFor();
}

export async function deleteImage(page) {
  await page.getByRole('button', {name: 'Delete', exact: true}).click();
  await page.getByRole('dialog', {name: /^Delete/}).getByRole('button', {name: 'Delete image'}).click();
  await page.getByRole('heading', {name: 'Images', level: 1}).waitFor();
}

export async function shareWith(page, project) {
  await page.getByLabel('Share with project (name or ID)').fill(project);
  await page.getByRole('button', {name: 'Add member'}).click();
}

/** In the Shared tab: sets the invitation filter, then answers for the image called `name`. */
export async function answerInvitation(page, name, answer) {
  const row = imageRows(page).filter({has: page.getByRole('link', {name, exact: true})});
  await row.getByRole('button', {name: answer}).click();
  await row.waitFor({state: 'detached'});
}

export async function setInvitationFilter(page, status) {
  await page.getByLabel('Invitations').selectOption(status);
  await page.locator('table.images[aria-busy=false]').waitFor();
}

// ---- API access -------------------------------------------------------------------------------

/** Downloads the openrc; returns its path inside `dir`. */
export async function downloadOpenrc(page, dir) {
  const download = page.waitForEvent('download');
  await page.getByRole('button', {name: 'Download OpenStack RC file'}).click();
  const d = await download;
  const path = join(dir, d.suggestedFilename());
  await d.saveAs(path);
  return path;
}

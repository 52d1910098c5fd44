// Feasibility probe for big uploads: headless Chromium PUTs a local file (default 2 GiB, sparse)
// with XMLHttpRequest, as the Create dialog will, to a Node server that counts and discards the
// bytes. Reports upload-progress events, throughput, and the browser's peak memory, to show
// that Chromium streams a File body from disk rather than loading it.
// Usage: node e2e/upload_probe.mjs [GiB]
import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync, truncateSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {chromium} from 'playwright-core';

const gib = Number(process.argv[2] ?? 2);
const dir = mkdtempSync(join(tmpdir(), 'upload-probe-'));
const file = join(dir, 'disk.raw');
writeFileSync(file, '');
truncateSync(file, gib * 1024 ** 3);

const PAGE = '<!doctype html><meta charset="utf-8"><input type="file" id="f"><script src="/probe.js"></script>';
const SCRIPT = `
window.upload = () => new Promise((resolve, reject) => {
  const file = document.getElementById('f').files[0];
  const events = [];
  const xhr = new XMLHttpRequest();
  xhr.open('PUT', '/upload');
  xhr.setRequestHeader('Content-Type', 'application/octet-stream');
  xhr.setRequestHeader('x-openstack-image-size', String(file.size));
  xhr.upload.onprogress = (e) => events.push([performance.now(), e.loaded]);
  xhr.onload = () => resolve({status: xhr.status, body: xhr.responseText, events: events.length,
                              last: events.at(-1), first: events[0]});
  xhr.onerror = () => reject(new Error('xhr error'));
  xhr.send(file);
});`;

let received = 0;
const server = createServer((req, res) => {
  const headers = {'Content-Security-Policy': "default-src 'none'; script-src 'self'; connect-src 'self'"};
  if (req.method === 'PUT') {
    req.on('data', (chunk) => { received += chunk.length; });
    req.on('end', () => { res.writeHead(200, headers); res.end(String(received)); });
    return;
  }
  const js = req.url === '/probe.js';
  res.writeHead(200, {...headers, 'Content-Type': js ? 'text/javascript' : 'text/html'});
  res.end(js ? SCRIPT : PAGE);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));

const browser = await chromium.launch({executablePath: '/usr/bin/chromium',
                                       args: ['--disable-gpu', '--disable-background-networking']});
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/`);
await page.setInputFiles('#f', file);

// Resident memory of all Chromium processes (summed, so shared pages count several times):
// before the upload, and the peak sampled while it runs.
const rssKib = () => {
  try {
    const out = execFileSync('ps', ['-C', 'chromium', '-o', 'rss=']).toString();
    return out.split('\n').filter(Boolean).reduce((a, b) => a + Number(b), 0);
  } catch {
    return 0;
  }
};
const before = rssKib();
let peak = 0;
const sampler = setInterval(() => {
  peak = Math.max(peak, rssKib());
}, 200);
const t0 = performance.now();
const result = await page.evaluate(() => window.upload());
const seconds = (performance.now() - t0) / 1000;
clearInterval(sampler);

console.log(JSON.stringify({
  gib, status: result.status, server_received: received, progress_events: result.events,
  last_loaded: result.last?.[1], seconds: seconds.toFixed(1),
  mib_per_s: (gib * 1024 / seconds).toFixed(0), chromium_rss_before_mib: Math.round(before / 1024),
  chromium_peak_rss_mib: Math.round(peak / 1024),
}));
await browser.close();
server.close();
rmSync(dir, {recursive: true, force: true});
process.exit(received === gib * 1024 ** 3 ? 0 : 1);

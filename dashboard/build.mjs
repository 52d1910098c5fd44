// Builds the dashboard into dist/: dist/index.html plus content-hashed assets under dist/assets/
// (each also gzip-compressed, so that the server can send the .gz bytes as they are). The page
// has no inline script or style, so that the server's CSP can say script-src 'self'.
// Usage: node build.mjs [--outdir DIR]
import {build} from 'esbuild';
import {readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {basename, dirname, join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';
import {gzipSync} from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const argOut = process.argv.indexOf('--outdir');
const outdir = argOut > 0 ? process.argv[argOut + 1] : join(here, 'dist');
const started = performance.now();

rmSync(outdir, {recursive: true, force: true});
const result = await build({
  entryPoints: [join(here, 'src/main.jsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: 'app-[hash]',
  outdir: join(outdir, 'assets'),
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => join(process.cwd(), p));
const pick = (ext) => outputs.find((p) => p.endsWith(ext));
const url = (p) => `/dashboard/${relative(outdir, p)}`;
let html = readFileSync(join(here, 'src/index.html'), 'utf8')
    .replace('%APP_JS%', url(pick('.js')))
    .replace('%APP_CSS%', url(pick('.css')));
if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(html) || /<style|\son\w+=/i.test(html)) {
  throw new Error('index.html must not hold inline script, style or event handlers (CSP)');
}
writeFileSync(join(outdir, 'index.html'), html);

const sizes = [];
for (const file of walk(outdir)) {
  const bytes = readFileSync(file);
  const gz = gzipSync(bytes, {level: 9});
  if (gz.length < bytes.length) writeFileSync(`${file}.gz`, gz);
  sizes.push([relative(outdir, file), bytes.length, gz.length]);
}
for (const [name, raw, gz] of sizes) console.log(`${name.padEnd(34)} ${String(raw).padStart(7)} B  gzip ${gz} B`);
console.log(`built ${basename(outdir)}/ in ${Math.round(performance.now() - started)} ms`);

function* walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (!p.endsWith('.gz')) yield p;
  }
}

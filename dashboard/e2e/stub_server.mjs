// A tiny Node stand-in for Glimmer's dashboard edge, for the scaffold only: it serves dist/ with
// the headers the C++ server is to send (docs/design/dashboard.md, "Serving the assets") and
// fakes the session endpoints and GET /v2/images over generated images. It is the contract in
// executable form, not a server to keep: once src/dashboard/ exists, the e2e tests start the real
// glimmer binary instead (GLIMMER_URL).
import {randomBytes} from 'node:crypto';
import {createServer} from 'node:http';
import {existsSync, readFileSync} from 'node:fs';
import {extname, join, normalize} from 'node:path';

export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const TYPES = {'.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
               '.css': 'text/css; charset=utf-8', '.txt': 'text/plain; charset=utf-8'};
const COOKIE = 'glimmer_session';

const PROJECTS = [{id: 'a1b2c3d4e5f6478890aabbccddeeff00', name: 'demo'},
                  {id: '0f1e2d3c4b5a49687766554433221100', name: 'admin'}];

function fakeImages(count) {
  const formats = ['raw', 'qcow2', 'iso', 'vmdk'];
  const statuses = ['active', 'active', 'active', 'saving', 'queued', 'deactivated'];
  return Array.from({length: count}, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `image-${String(i).padStart(4, '0')}`,
    owner: PROJECTS[i % 7 === 0 ? 1 : 0].id,
    status: statuses[i % statuses.length],
    visibility: ['private', 'shared', 'public', 'community'][i % 4],
    protected: i % 11 === 0,
    disk_format: formats[i % formats.length],
    size: i % 5 === 4 ? null : (i + 1) * 37_748_736,
    created_at: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString().replace('.000', ''),
  }));
}

/** Starts the stub on 127.0.0.1 (port 0 = any). Returns {url, close}. */
export async function startStub({dist, port = 0, imageCount = 60}) {
  const sessions = new Map();  // cookie secret -> {csrf, token, project}
  const images = fakeImages(imageCount);

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const send = (status, body, headers = {}) => {
      res.writeHead(status, {'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer',
                             'Content-Security-Policy': CSP, ...headers});
      res.end(body);
    };
    const json = (status, value, headers = {}) =>
      send(status, JSON.stringify(value), {'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers});

    if (url.pathname === '/' && (req.headers.accept ?? '').includes('text/html')) {
      return send(302, '', {Location: '/dashboard/'});
    }
    if (url.pathname.startsWith('/dashboard/api/')) {
      const secret = /(?:^|;\s*)glimmer_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      const session = sessions.get(secret);
      const safe = req.method === 'GET' || req.method === 'HEAD';
      const sameOrigin = !req.headers.origin || req.headers.origin === `http://${req.headers.host}`;
      if (!sameOrigin) return json(403, {message: 'Cross-origin request refused'});
      const api = url.pathname.slice('/dashboard/api'.length);
      if (api === '/session' && req.method === 'POST') {
        if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
          return json(415, {message: 'Content-Type must be application/json'});
        }
        const body = JSON.parse(await readBody(req));
        if (body.password !== 'secret') return json(401, {message: 'Invalid credentials'});
        const fresh = randomBytes(32).toString('base64url');
        const s = {csrf: randomBytes(32).toString('base64url'), project: PROJECTS[0], user: body.user};
        sessions.set(fresh, s);
        return json(201, sessionDoc(s), {'Set-Cookie':
            `${COOKIE}=${fresh}; Path=/dashboard/; HttpOnly; SameSite=Strict; Max-Age=3600`});
      }
      if (!session) return json(401, {message: 'Not signed in'});
      if (!safe && req.headers['x-glimmer-csrf'] !== session.csrf) {
        return json(403, {message: 'CSRF token missing or wrong'});
      }
      if (api === '/session' && req.method === 'GET') return json(200, sessionDoc(session));
      if (api === '/session' && req.method === 'DELETE') {
        sessions.delete(secret);
        return send(204, '', {'Set-Cookie': `${COOKIE}=; Path=/dashboard/; HttpOnly; SameSite=Strict; Max-Age=0`});
      }
      if (api === '/v2/images' && req.method === 'GET') return json(200, listImages(images, url.searchParams));
      return json(404, {message: 'Not found'});
    }
    if (url.pathname === '/dashboard' ) return send(301, '', {Location: '/dashboard/'});
    if (url.pathname.startsWith('/dashboard/')) {
      const rel = url.pathname === '/dashboard/' ? 'index.html' : url.pathname.slice('/dashboard/'.length);
      const file = normalize(join(dist, rel));
      if (!file.startsWith(dist) || !existsSync(file)) return send(404, 'Not found');
      const hashed = rel.startsWith('assets/');
      return send(200, readFileSync(file), {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Cache-Control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
    }
    return json(300, {versions: []});
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {url: `http://127.0.0.1:${server.address().port}`, close: () => server.close()};
}

function sessionDoc(s) {
  return {user: {id: 'u1', name: s.user}, project: s.project, projects: PROJECTS,
          roles: ['member', 'reader'], csrf_token: s.csrf,
          expires_at: new Date(Date.now() + 3_600_000).toISOString()};
}

// Glance's marker/limit paging and name/sort filters, enough for the panel.
function listImages(all, q) {
  let rows = all.filter((i) => !q.get('owner') || i.owner === q.get('owner'));
  const name = /^in:"(.*)"$/.exec(q.get('name') ?? '')?.[1];
  if (name) rows = rows.filter((i) => i.name === name);
  const [key, dir] = (q.get('sort') ?? 'created_at:desc').split(':');
  rows.sort((a, b) => (a[key] > b[key] ? 1 : a[key] < b[key] ? -1 : 0) * (dir === 'desc' ? -1 : 1));
  const start = q.get('marker') ? rows.findIndex((i) => i.id === q.get('marker')) + 1 : 0;
  const limit = Number(q.get('limit') ?? 25);
  const page = rows.slice(start, start + limit);
  const more = start + limit < rows.length;
  const next = new URLSearchParams(q);
  next.set('marker', page.at(-1)?.id ?? '');
  return {images: page, first: '/v2/images', ...(more ? {next: `/v2/images?${next}`} : {})};
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

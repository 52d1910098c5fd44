// A Node stand-in for Glimmer's dashboard edge and the parts of the Glance v2 API the pages call.
// It serves dist/ with the headers the C++ server is to send (docs/design/dashboard.md §3.4),
// implements the session endpoints and the CSRF rules (§3.1–3.3), and keeps images, members,
// tasks and quotas in memory with Glance's rules (shared/reference/glance-api.md): listing
// filters, sort, marker/limit paging, JSON-patch, upload (streamed, hashed, format-checked),
// web-download import (really fetches the URL), members, deactivate/reactivate.
// It is the contract in executable form, for developing the pages; the real e2e tests start the
// glimmer binary instead (GLIMMER_URL).
import {createHash, randomBytes, randomUUID} from 'node:crypto';
import {createServer} from 'node:http';
import {existsSync, readFileSync} from 'node:fs';
import {extname, join, normalize} from 'node:path';

import {sniffImage} from '../src/lib/image_sniff.js';

export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const TYPES = {'.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
               '.css': 'text/css; charset=utf-8', '.txt': 'text/plain; charset=utf-8'};
const COOKIE = 'glimmer_session';
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const PATCH_TYPES = ['application/openstack-images-v2.1-json-patch', 'application/openstack-images-v2.0-json-patch'];
const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'];
const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'];
const BASE = new Set(['id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'checksum',
  'os_hash_algo', 'os_hash_value', 'owner', 'size', 'virtual_size', 'container_format', 'disk_format',
  'min_disk', 'min_ram', 'tags', 'created_at', 'updated_at', 'self', 'file', 'schema', 'stores']);
const READ_ONLY = new Set(['id', 'status', 'checksum', 'os_hash_algo', 'os_hash_value', 'size',
  'virtual_size', 'created_at', 'updated_at', 'self', 'file', 'schema', 'stores', 'location',
  'deleted', 'deleted_at', 'direct_url', 'locations']);

export const PROJECTS = [
  {id: 'a1b2c3d4e5f6478890aabbccddeeff00', name: 'demo', domain: {id: 'default', name: 'Default'}},
  {id: '0f1e2d3c4b5a49687766554433221100', name: 'admin', domain: {id: 'default', name: 'Default'}},
  {id: '5e6f7a8b9c0d41e2a3b4c5d6e7f80912', name: "o'brien lab", domain: {id: 'default', name: 'Default'}},
];
// user -> {password, projects (ids), roles}
export const USERS = {
  alice: {password: 'secret', projects: [PROJECTS[0].id, PROJECTS[2].id], roles: ['member', 'reader']},
  admin: {password: 'secret', projects: [PROJECTS[1].id, PROJECTS[0].id], roles: ['admin', 'member', 'reader']},
};
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function fakeImages(count) {
  const formats = ['raw', 'qcow2', 'iso', 'vmdk'];
  const statuses = ['active', 'active', 'active', 'active', 'active', 'deactivated'];
  const distros = [['ubuntu', '24.04', 'ubuntu'], ['debian', '12', 'debian'], ['fedora', '41', 'fedora'], ['windows', '2022', 'Administrator']];
  return Array.from({length: count}, (_, i) => {
    const visibility = ['private', 'shared', 'public', 'community'][i % 4];
    const [os_distro, os_version, os_admin_user] = distros[i % distros.length];
    const size = ((i % 40) + 1) * 8 * 1024 * 1024 + i * 4096;
    return {
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      name: `image-${String(i).padStart(4, '0')}`,
      owner: PROJECTS[i % 7 === 0 ? 1 : 0].id,
      status: statuses[i % statuses.length], visibility, protected: i % 11 === 0, os_hidden: false,
      disk_format: formats[i % formats.length], container_format: 'bare',
      size, virtual_size: formats[i % formats.length] === 'qcow2' ? size * 4 : size,
      checksum: createHash('md5').update(String(i)).digest('hex'), os_hash_algo: 'sha512',
      os_hash_value: createHash('sha512').update(String(i)).digest('hex'),
      min_disk: Math.ceil(size / GiB), min_ram: 0, tags: i % 3 === 0 ? ['base'] : [],
      created_at: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString().replace('.000', ''),
      updated_at: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString().replace('.000', ''),
      ...(visibility === 'public' ? {os_distro, os_version, os_admin_user} : {}),
      ...(i % 13 === 5 ? {image_type: 'snapshot'} : {}),
    };
  });
}

/**
 * Starts the stub on 127.0.0.1 (port 0 = any). Options: dist (the built dashboard), imageCount,
 * quota (image_size_total in bytes; -1 = unlimited), uploadRate (bytes/s for images whose name
 * starts with "slow", to exercise progress and cancel). Returns {url, close, state}.
 */
export async function startStub({dist, port = 0, imageCount = 60, quota = 50 * GiB, uploadRate = 8 * MiB} = {}) {
  const sessions = new Map();  // cookie secret -> {csrf, project, user}
  const images = new Map(fakeImages(imageCount).map((i) => [i.id, i]));
  const data = new Map();  // image id -> Buffer (kept only for small images, for downloads)
  const members = new Map();  // image id -> Map(project -> member)
  const tasks = new Map();  // image id -> [task]
  const quotas = {image_size_total: quota, image_count_total: -1};
  // Pre-shared images for the Shared tab: image-0005 (owned by admin? no: demo) — give one
  // admin-owned shared image with a pending invitation to demo.
  for (const img of images.values()) {
    if (img.visibility === 'shared' && img.owner === PROJECTS[1].id) {
      members.set(img.id, new Map([[PROJECTS[0].id, member(img.id, PROJECTS[0].id)]]));
    }
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const send = (status, body, headers = {}) => {
      if (res.headersSent) return;
      res.writeHead(status, {'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer',
                             'Cross-Origin-Opener-Policy': 'same-origin', 'Content-Security-Policy': CSP, ...headers});
      res.end(body);
    };
    const json = (status, value, headers = {}) =>
      send(status, value === undefined ? '' : JSON.stringify(value),
           {'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers});
    const fail = (status, message) => json(status, {message, code: String(status), title: message});

    try {
      if (url.pathname === '/' && (req.headers.accept ?? '').includes('text/html')) {
        return send(302, '', {Location: '/dashboard/'});
      }
      if (url.pathname.startsWith('/dashboard/api/')) {
        const secret = /(?:^|;\s*)glimmer_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
        const session = sessions.get(secret);
        const safe = req.method === 'GET' || req.method === 'HEAD';
        const site = req.headers['sec-fetch-site'];
        if (site && site !== 'same-origin' && !(site === 'none' && safe)) return fail(403, 'Cross-site request refused');
        const sameOrigin = !req.headers.origin || req.headers.origin === `http://${req.headers.host}`;
        if (!sameOrigin) return fail(403, 'Cross-origin request refused');
        const api = url.pathname.slice('/dashboard/api'.length);
        if (api === '/session' && req.method === 'POST') {
          if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
            return fail(415, 'Content-Type must be application/json');
          }
          const body = JSON.parse(await readBody(req));
          const user = USERS[body.user];
          if (!user || body.password !== user.password) return fail(401, 'The request you have made requires authentication.');
          const project = body.project
            ? PROJECTS.find((p) => (p.name === body.project || p.id === body.project) && user.projects.includes(p.id))
            : PROJECTS.find((p) => p.id === user.projects[0]);
          if (!project) return fail(401, 'The user has no role in that project.');
          return newSession(res, json, {user: body.user, project}, 201);
        }
        if (!session) return json(401, {message: 'Not signed in'}, {'Set-Cookie': expired()});
        if (!safe && req.headers['x-glimmer-csrf'] !== session.csrf) return fail(403, 'CSRF token missing or wrong');
        if (api === '/session' && req.method === 'GET') return json(200, sessionDoc(session, req));
        if (api === '/session' && req.method === 'DELETE') {
          sessions.delete(secret);
          return send(204, '', {'Set-Cookie': expired()});
        }
        if (api === '/session/project' && req.method === 'PUT') {
          const body = JSON.parse(await readBody(req));
          const project = PROJECTS.find((p) => p.id === body.project_id && USERS[session.user].projects.includes(p.id));
          if (!project) return fail(403, 'You have no role in that project.');
          sessions.delete(secret);
          return newSession(res, json, {user: session.user, project}, 200, req);
        }
        if (api === '/identity/v3/auth/tokens') return fail(404, 'Not found');
        const ctx = {project: session.project.id, admin: USERS[session.user].roles.includes('admin')};
        if (api.startsWith('/identity/v3/')) return identity(api.slice('/identity/v3'.length), url.searchParams, ctx, json, fail);
        if (api.startsWith('/v2/')) return await glance(req, res, api.slice(3), url.searchParams, ctx, json, fail, send);
        return fail(404, 'Not found');
      }
      if (url.pathname === '/dashboard') return send(301, '', {Location: '/dashboard/'});
      if (url.pathname.startsWith('/dashboard/')) {
        const rel = url.pathname === '/dashboard/' ? 'index.html' : url.pathname.slice('/dashboard/'.length);
        const file = normalize(join(dist, rel));
        const isAsset = rel.startsWith('assets/');
        const path = isAsset ? file : join(dist, 'index.html');  // client routes get index.html
        if (!file.startsWith(dist) || !existsSync(path)) return send(404, 'Not found', {'Content-Type': 'text/plain'});
        return send(200, readFileSync(path), {
          'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
          'Cache-Control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
        });
      }
      return json(300, {versions: []});
    } catch (e) {
      console.error('stub:', e);
      return fail(500, 'Internal error');
    }
  });

  function newSession(res, json, s, status, req) {
    const fresh = randomBytes(32).toString('base64url');
    const full = {...s, csrf: randomBytes(32).toString('base64url')};
    sessions.set(fresh, full);
    return json(status, sessionDoc(full, req), {'Set-Cookie':
        `${COOKIE}=${fresh}; Path=/dashboard/; HttpOnly; SameSite=Strict; Max-Age=3600`});
  }
  const expired = () => `${COOKIE}=; Path=/dashboard/; HttpOnly; SameSite=Strict; Max-Age=0`;

  function sessionDoc(s, req) {
    const user = USERS[s.user];
    const admin = user.roles.includes('admin');
    const origin = `http://${req?.headers?.host ?? '127.0.0.1'}`;
    return {
      user: {id: `u-${s.user}`, name: s.user, domain: {id: 'default', name: 'Default'}},
      project: s.project,
      projects: PROJECTS.filter((p) => user.projects.includes(p.id)),
      roles: user.roles, csrf_token: s.csrf,
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      capabilities: {upload_image: true, add_member: true, delete_image: true, communitize_image: true,
                     publicize_image: admin},
      endpoints: {identity: `${origin}/identity/v3`, image: origin, region: 'RegionOne', interface: 'public'},
    };
  }

  function identity(path, q, ctx, json, fail) {
    if (path === '/projects') {
      if (!ctx.admin) return fail(403, 'You are not authorized to perform the requested action: identity:list_projects.');
      const name = q.get('name');
      return json(200, {projects: PROJECTS.filter((p) => !name || p.name === name)});
    }
    return fail(404, 'Not found');
  }

  // ---- Glance ----------------------------------------------------------------------------------

  function canSee(img, ctx) {
    if (ctx.admin || img.owner === ctx.project || !img.owner) return true;
    if (img.visibility === 'public' || img.visibility === 'community') return true;
    return img.visibility === 'shared' && members.get(img.id)?.has(ctx.project);
  }
  const render = (img) => ({...img, self: `/v2/images/${img.id}`, file: `/v2/images/${img.id}/file`, schema: '/v2/schemas/image'});
  const owns = (img, ctx) => ctx.admin || img.owner === ctx.project;

  async function glance(req, res, path, q, ctx, json, fail, send) {
    const m = req.method;
    const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (seg[0] === 'images' && seg.length === 1) {
      if (m === 'GET') return list(q, ctx, json, fail);
      if (m === 'POST') return create(JSON.parse(await readBody(req) || '{}'), ctx, json, fail);
      return fail(405, 'Method not allowed');
    }
    if (seg[0] === 'info') {
      if (seg[1] === 'import') return json(200, {'import-methods': {description: 'Import methods available.', type: 'array', value: ['glance-direct', 'web-download', 'copy-image']}});
      if (seg[1] === 'usage') return json(200, {usage: usage(ctx)});
      if (seg[1] === 'stores') return fail(404, 'Multi backend is not supported at this site.');
    }
    if (seg[0] === 'schemas' && seg[1] === 'image') {
      return json(200, {name: 'image', properties: {disk_format: {type: ['null', 'string'], enum: [null, ...DISK_FORMATS]},
                                                    container_format: {type: ['null', 'string'], enum: [null, ...CONTAINER_FORMATS]}}});
    }
    if (seg[0] !== 'images') return fail(404, 'Not found');
    const img = images.get(seg[1]);
    if (!img || !canSee(img, ctx)) return fail(404, `No image found with ID ${seg[1]}`);
    if (seg.length === 2) {
      if (m === 'GET') return json(200, render(img));
      if (m === 'DELETE') {
        if (!owns(img, ctx)) return fail(403, 'You are not permitted to delete this image.');
        if (img.protected) return fail(403, `Image ${img.id} is protected and cannot be deleted.`);
        images.delete(img.id);
        data.delete(img.id);
        img.deleted = true;
        return send(204, '');
      }
      if (m === 'PATCH') {
        if (!PATCH_TYPES.includes((req.headers['content-type'] ?? '').split(';')[0])) {
          return send(415, JSON.stringify({message: 'Unsupported Content-Type'}), {'Accept-Patch': PATCH_TYPES.join(', '), 'Content-Type': 'application/json'});
        }
        if (!owns(img, ctx)) return fail(403, 'You are not permitted to modify this image.');
        return patch(img, JSON.parse(await readBody(req)), ctx, json, fail);
      }
      return fail(405, 'Method not allowed');
    }
    const sub = seg[2];
    if (sub === 'file' && m === 'GET') {
      if (img.status === 'deactivated' && !ctx.admin) return fail(403, 'The requested image has been deactivated. Image data download is forbidden.');
      if (img.size === null) return send(204, '');
      const bytes = data.get(img.id) ?? Buffer.alloc(Math.min(img.size, MiB));
      return send(200, bytes, {'Content-Type': 'application/octet-stream', 'Content-MD5': img.checksum ?? ''});
    }
    if (sub === 'file' && m === 'PUT') return upload(req, res, img, ctx, json, fail, send);
    if (sub === 'import' && m === 'POST') return importImage(img, JSON.parse(await readBody(req)), ctx, json, fail, send);
    if (sub === 'tasks' && m === 'GET') return json(200, {tasks: tasks.get(img.id) ?? []});
    if (sub === 'actions') {
      if (!owns(img, ctx)) return fail(403, 'You are not permitted to change this image.');
      if (seg[3] === 'deactivate') {
        if (img.status !== 'active' && img.status !== 'deactivated') return fail(403, 'Not allowed to deactivate image in status ' + img.status);
        img.status = 'deactivated';
      } else if (seg[3] === 'reactivate') {
        if (img.status !== 'active' && img.status !== 'deactivated') return fail(403, 'Not allowed to reactivate image in status ' + img.status);
        img.status = 'active';
      } else return fail(404, 'Not found');
      img.updated_at = now();
      return send(204, '');
    }
    if (sub === 'members') return membersApi(req, img, seg[3], ctx, json, fail, send);
    if (sub === 'tags' && seg[3]) {
      if (m === 'PUT') { if (!img.tags.includes(seg[3])) img.tags.push(seg[3]); return send(204, ''); }
      if (m === 'DELETE') {
        if (!img.tags.includes(seg[3])) return fail(404, 'Tag not found');
        img.tags = img.tags.filter((t) => t !== seg[3]);
        return send(204, '');
      }
    }
    return fail(404, 'Not found');
  }

  function list(q, ctx, json, fail) {
    const visibility = q.get('visibility');
    const memberStatus = q.get('member_status') ?? 'accepted';
    if (visibility && !['public', 'private', 'shared', 'community', 'all'].includes(visibility)) return fail(400, 'Invalid visibility value');
    let rows = [...images.values()].filter((img) => {
      const own = img.owner === ctx.project;
      const mem = members.get(img.id)?.get(ctx.project);
      const memberOk = mem && (memberStatus === 'all' || mem.status === memberStatus);
      let visible;
      if (ctx.admin) visible = img.visibility !== 'community' || own || visibility === 'community' || visibility === 'all';
      else visible = own || img.visibility === 'public' ||
          (img.visibility === 'community' && (visibility === 'community' || visibility === 'all')) ||
          (img.visibility === 'shared' && memberOk);
      if (!visible) return false;
      if (visibility && visibility !== 'all' && img.visibility !== visibility) return false;
      if (img.status === 'killed' || (img.os_hidden && q.get('os_hidden') !== 'true')) return false;
      return true;
    });
    for (const key of ['name', 'id', 'status', 'disk_format', 'container_format', 'owner']) {
      const v = q.get(key);
      if (v === null) continue;
      const values = parseIn(v);
      if (!values) return fail(400, `Invalid filter value ${v}. The quotes are not closed properly.`);
      rows = rows.filter((i) => values.includes(i[key]));
    }
    for (const tag of q.getAll('tag')) rows = rows.filter((i) => i.tags.includes(tag));
    if (q.has('protected')) {
      if (!['true', 'false'].includes(q.get('protected'))) return fail(400, 'Invalid value for protected');
      rows = rows.filter((i) => String(i.protected) === q.get('protected'));
    }
    for (const [key, cmp] of [['size_min', (a, b) => a >= b], ['size_max', (a, b) => a <= b]]) {
      if (!q.has(key)) continue;
      const n = Number(q.get(key));
      if (!Number.isInteger(n)) return fail(400, `${key} must be an integer`);
      rows = rows.filter((i) => i.size !== null && cmp(i.size, n));
    }
    for (const key of ['os_distro']) if (q.has(key)) rows = rows.filter((i) => i[key] === q.get(key));
    const [key, dir = 'desc'] = (q.get('sort') ?? 'created_at:desc').split(',')[0].split(':');
    if (!['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at'].includes(key)) {
      return fail(400, `Invalid sort key: ${key}`);
    }
    const sign = dir === 'desc' ? -1 : 1;
    const cmp = (a, b) => (a > b ? 1 : a < b ? -1 : 0);
    rows.sort((a, b) => sign * (cmp(a[key] ?? '', b[key] ?? '') || cmp(a.created_at, b.created_at) || cmp(a.id, b.id)));
    let start = 0;
    if (q.get('marker')) {
      start = rows.findIndex((i) => i.id === q.get('marker')) + 1;
      if (start === 0) return fail(400, `marker ${q.get('marker')} could not be found.`);
    }
    const limit = Math.min(Number(q.get('limit') ?? 25), 1000);
    const page = rows.slice(start, start + limit);
    const body = {images: page.map(render), first: '/v2/images', schema: '/v2/schemas/images'};
    if (page.length === limit && limit > 0) {
      const next = new URLSearchParams(q);
      next.set('marker', page.at(-1).id);
      body.next = `/v2/images?${next}`;
    }
    return json(200, body);
  }

  function create(body, ctx, json, fail) {
    for (const key of Object.keys(body)) {
      if (READ_ONLY.has(key) && key !== 'id') return fail(403, `Attribute '${key}' is read-only.`);
      if (key.startsWith('os_glance')) return fail(403, `Attribute '${key}' is reserved.`);
    }
    if (body.visibility === 'public' && !ctx.admin) return fail(403, 'You are not authorized to complete publicize_image action.');
    if (body.disk_format && !DISK_FORMATS.includes(body.disk_format)) return fail(400, `Invalid disk format '${body.disk_format}'`);
    if (body.container_format && !CONTAINER_FORMATS.includes(body.container_format)) return fail(400, `Invalid container format '${body.container_format}'`);
    for (const [k, v] of Object.entries(body)) {
      if (!BASE.has(k) && typeof v !== 'string') return fail(400, `Property '${k}' must be a string`);
    }
    const img = {
      id: body.id ?? randomUUID(), name: null, status: 'queued', visibility: 'shared', protected: false,
      os_hidden: false, checksum: null, os_hash_algo: null, os_hash_value: null, owner: ctx.project,
      size: null, virtual_size: null, container_format: null, disk_format: null, min_disk: 0, min_ram: 0,
      tags: [], created_at: now(), updated_at: now(), ...body,
    };
    images.set(img.id, img);
    return json(201, render(img), {Location: `/v2/images/${img.id}`,
                                   'OpenStack-image-import-methods': 'glance-direct,web-download,copy-image'});
  }

  function patch(img, ops, ctx, json, fail) {
    if (!Array.isArray(ops)) return fail(400, 'Request body must be a JSON array of operation objects.');
    const next = structuredClone(img);
    for (const op of ops) {
      const key = String(op.path ?? '').slice(1).replaceAll('~1', '/').replaceAll('~0', '~');
      if (!['add', 'replace', 'remove'].includes(op.op)) return fail(400, `Invalid operation: ${op.op}`);
      if (!key || key.includes('/')) return fail(400, 'Invalid JSON pointer');
      if (READ_ONLY.has(key) || key.startsWith('os_glance')) return fail(403, `Attribute '${key}' is read-only.`);
      if (key === 'owner' && !ctx.admin) return fail(403, 'Owner can only be changed by an admin');
      if ((key === 'disk_format' || key === 'container_format') && img.status !== 'queued') return fail(403, `Attribute ${key} can be only replaced for a queued image.`);
      if (key === 'visibility' && op.value === 'public' && !ctx.admin) return fail(403, 'You are not authorized to complete publicize_image action.');
      if (BASE.has(key)) {
        if (op.op === 'remove') return fail(403, `Properties ${key} must not be removed.`);
        if ((key === 'min_disk' || key === 'min_ram') && !(Number.isInteger(op.value) && op.value >= 0)) return fail(400, `Invalid value for ${key}`);
        next[key] = op.value;
      } else if (op.op === 'remove') {
        if (!(key in next)) return fail(409, `Property ${key} does not exist.`);
        delete next[key];
      } else {
        if (op.op === 'replace' && !(key in next)) return fail(409, `Property ${key} does not exist.`);
        if (typeof op.value !== 'string') return fail(400, `Property '${key}' must be a string`);
        next[key] = op.value;
      }
    }
    next.updated_at = now();
    images.set(img.id, next);
    Object.assign(img, next);
    return json(200, render(next));
  }

  function usage(ctx) {
    const own = [...images.values()].filter((i) => i.owner === ctx.project);
    const bytes = own.reduce((s, i) => s + (i.status === 'active' ? i.size ?? 0 : 0), 0);
    const mib = (n) => (n < 0 ? n : Math.ceil(n / MiB));
    return {
      image_size_total: {limit: mib(quotas.image_size_total), usage: mib(bytes)},
      image_stage_total: {limit: -1, usage: 0},
      image_count_total: {limit: quotas.image_count_total, usage: own.length},
      image_count_uploading: {limit: 10, usage: own.filter((i) => ['saving', 'uploading', 'importing'].includes(i.status)).length},
    };
  }
  function quotaLeft(ctx) {
    if (quotas.image_size_total < 0) return Infinity;
    return quotas.image_size_total - usage(ctx).image_size_total.usage * MiB;
  }

  async function upload(req, res, img, ctx, json, fail, send) {
    if (!owns(img, ctx)) return fail(403, 'You are not permitted to upload data for this image.');
    if ((req.headers['content-type'] ?? '') !== 'application/octet-stream') return fail(415, 'Content-Type must be application/octet-stream');
    if (img.status !== 'queued') return fail(409, `Image status transition from ${img.status} to saving is not allowed`);
    if (!img.disk_format || !img.container_format) return fail(400, 'Properties disk_format, container_format must be set prior to saving data.');
    const hint = req.headers['x-openstack-image-size'] ?? req.headers['content-length'];
    const expected = hint === undefined ? null : Number(hint);
    if (expected !== null && !Number.isInteger(expected)) return fail(400, 'x-openstack-image-size must be an integer');
    if (expected !== null && expected > quotaLeft(ctx)) {
      return fail(413, `The image would exceed the project's storage quota (${Math.ceil(expected / MiB)} MiB requested, ${Math.floor(quotaLeft(ctx) / MiB)} MiB left).`);
    }
    img.status = 'saving';
    img.updated_at = now();
    const md5 = createHash('md5');
    const sha = createHash('sha512');
    const head = [];
    let headLen = 0;
    let tail = Buffer.alloc(0);
    const keep = [];
    let total = 0;
    const slow = (img.name ?? '').startsWith('slow');
    const started = Date.now();
    let aborted = false;
    req.on('close', () => { if (!req.complete) aborted = true; });
    try {
      for await (const chunk of req) {
        md5.update(chunk);
        sha.update(chunk);
        total += chunk.length;
        if (headLen < 64 * 1024 + 512) { head.push(chunk); headLen += chunk.length; }
        tail = Buffer.concat([tail, chunk]).subarray(-512);
        if (total <= 8 * MiB) keep.push(chunk);
        if (!images.has(img.id)) break;
        if (slow) {
          const due = started + (total / uploadRate) * 1000;
          if (due > Date.now()) {
            req.pause();
            await new Promise((r) => setTimeout(r, due - Date.now()));
            req.resume();
          }
        }
      }
    } catch {
      aborted = true;
    }
    const restore = () => { img.status = 'queued'; img.updated_at = now(); };
    if (!images.has(img.id)) return fail(410, 'Image was deleted during the upload');
    if (aborted || !req.complete) { restore(); return; }
    if (expected !== null && total !== expected) { restore(); return fail(400, `Size mismatch: expected ${expected} bytes, got ${total}.`); }
    const headBuf = Buffer.concat(head);
    const read = async (offset, length) => {
      if (offset + length <= headBuf.length) return new Uint8Array(headBuf.subarray(offset, offset + length));
      if (offset >= total - tail.length) return new Uint8Array(tail.subarray(offset - (total - tail.length), offset - (total - tail.length) + length));
      return new Uint8Array(0);
    };
    let detected = {format: 'raw', virtualSize: total};
    if (img.container_format === 'bare') detected = await sniffImage(read, total);
    const claimed = img.disk_format;
    if (img.container_format === 'bare' && detected.format && detected.format !== claimed && claimed !== 'raw' &&
        !(detected.format === 'raw' && ['ami', 'aki', 'ari', 'ploop'].includes(claimed))) {
      restore();
      return fail(415, `Image disk_format ${claimed} does not match the data: it is ${detected.format}. Image failed safety checks.`);
    }
    Object.assign(img, {status: 'active', size: total, checksum: md5.digest('hex'), os_hash_algo: 'sha512',
                        os_hash_value: sha.digest('hex'), updated_at: now(),
                        virtual_size: claimed === 'raw' || img.container_format !== 'bare' ? (img.container_format === 'bare' ? total : null) : detected.virtualSize});
    if (total <= 8 * MiB) data.set(img.id, Buffer.concat(keep));
    return send(204, '');
  }

  function importImage(img, body, ctx, json, fail, send) {
    const method = body?.method?.name;
    if (!method) return fail(400, "Import request requires a 'method' field.");
    if (method !== 'web-download') return fail(400, `Import method ${method} is not supported by this stub.`);
    if (!owns(img, ctx)) return fail(403, 'You are not permitted to import data for this image.');
    if (img.status !== 'queued') return fail(409, `Image status ${img.status} does not allow import.`);
    if (!img.disk_format || !img.container_format) return fail(409, "'disk_format' and 'container_format' must be set prior to import.");
    let uri;
    try { uri = new URL(body.method.uri); } catch { return fail(400, 'Invalid URI for web-download.'); }
    if (!['http:', 'https:'].includes(uri.protocol)) return fail(400, 'URI scheme not allowed.');
    const task = {id: randomUUID(), type: 'api_image_import', status: 'pending', owner: ctx.project,
                  message: '', image_id: img.id, created_at: now().replace('Z', '.000000'), updated_at: now().replace('Z', '.000000'),
                  input: {image_id: img.id, import_req: body}, result: null};
    tasks.set(img.id, [...(tasks.get(img.id) ?? []), task]);
    img.status = 'importing';
    img.os_glance_import_task = task.id;
    const step = (fields) => Object.assign(task, fields, {updated_at: now().replace('Z', '.000000')});
    (async () => {
      await new Promise((r) => setTimeout(r, 300));
      step({status: 'processing', message: 'Downloading'});
      try {
        const response = await fetch(uri, {redirect: 'follow'});
        if (!response.ok) throw new Error(`The server at ${uri.host} answered ${response.status} ${response.statusText} for ${uri.pathname}.`);
        const md5 = createHash('md5');
        const sha = createHash('sha512');
        let total = 0;
        const reader = response.body.getReader();
        for (;;) {
          const {done, value} = await reader.read();
          if (done) break;
          md5.update(value); sha.update(value); total += value.length;
          step({message: `Copied ${Math.floor(total / MiB)} MiB`});
          if (!images.has(img.id)) return;
        }
        await new Promise((r) => setTimeout(r, 400));
        Object.assign(img, {status: 'active', size: total, virtual_size: total, checksum: md5.digest('hex'),
                            os_hash_algo: 'sha512', os_hash_value: sha.digest('hex'), updated_at: now()});
        delete img.os_glance_import_task;
        step({status: 'success', message: `Copied ${Math.ceil(total / MiB)} MiB`, result: {image_id: img.id}});
      } catch (e) {
        img.status = 'queued';
        delete img.os_glance_import_task;
        step({status: 'failure', message: `Import failed: ${e.cause?.message ?? e.message}`});
      }
    })();
    return send(202, '');
  }

  function member(imageId, project) {
    return {image_id: imageId, member_id: project, status: 'pending', created_at: now(), updated_at: now(), schema: '/v2/schemas/member'};
  }

  async function membersApi(req, img, memberId, ctx, json, fail, send) {
    const m = req.method;
    if (img.visibility !== 'shared') return fail(403, 'Only shared images have members.');
    const list = members.get(img.id) ?? new Map();
    members.set(img.id, list);
    if (!memberId) {
      if (m === 'GET') {
        const rows = owns(img, ctx) ? [...list.values()] : [...list.values()].filter((x) => x.member_id === ctx.project);
        return json(200, {members: rows, schema: '/v2/schemas/members'});
      }
      if (m === 'POST') {
        if (!owns(img, ctx)) return fail(403, 'You are not permitted to add members to this image.');
        const body = JSON.parse(await readBody(req));
        if (!body.member) return fail(400, 'Member to be added not specified');
        if (list.has(body.member)) return fail(409, `Member ${body.member} is already a member of image ${img.id}.`);
        const row = member(img.id, body.member);
        list.set(body.member, row);
        return json(200, row);
      }
      return fail(405, 'Method not allowed');
    }
    const row = list.get(memberId);
    if (!row) return fail(404, `${memberId} is not a member of image ${img.id}`);
    if (m === 'GET') return json(200, row);
    if (m === 'PUT') {
      if (memberId !== ctx.project) return fail(403, 'You are not permitted to modify the status of this member.');
      const body = JSON.parse(await readBody(req));
      if (!['pending', 'accepted', 'rejected'].includes(body.status)) return fail(400, `Invalid status: ${body.status}`);
      Object.assign(row, {status: body.status, updated_at: now()});
      return json(200, row);
    }
    if (m === 'DELETE') {
      if (!owns(img, ctx)) return fail(403, 'You are not permitted to remove members from this image.');
      list.delete(memberId);
      return send(204, '');
    }
    return fail(405, 'Method not allowed');
  }

  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {url: `http://127.0.0.1:${server.address().port}`, close: () => server.close(),
          state: {images, members, tasks, quotas, sessions}};
}

/** Glance's `in:a,"b,c"` / `eq:x` / plain value -> list of values, or null when quotes are unbalanced. */
export function parseIn(value) {
  let v = value;
  if (v.startsWith('eq:')) return [v.slice(3)];
  if (!v.startsWith('in:')) return [v];
  v = v.slice(3);
  const out = [];
  let cur = '';
  let quoted = false;
  for (const ch of v) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) { out.push(cur); cur = ''; } else cur += ch;
  }
  if (quoted) return null;
  out.push(cur);
  return out;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

// Run on its own for manual testing: node e2e/stub_server.mjs [port]
if (import.meta.url === `file://${process.argv[1]}`) {
  const stub = await startStub({dist: join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'dist'),
                                port: Number(process.argv[2] ?? 8765), imageCount: 2500});
  console.log(`stub at ${stub.url}/dashboard/ (alice/secret, admin/secret)`);
}

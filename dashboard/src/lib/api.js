// The dashboard's only way to the server. The session cookie (HttpOnly, so invisible here) is
// sent by the browser; this module adds the per-session CSRF token, which the server hands out
// in the session document and which lives only in this module's memory.
//
// Paths: /dashboard/api/session… are the session endpoints; /dashboard/api/v2/… and
// /dashboard/api/identity/v3/… reach the public API's own handlers, the server adding the
// session's token at its edge (docs/design/dashboard.md).
import {nextMarker} from './list_query.js';
import {PATCH_TYPE} from './patch.js';

export const BASE = '/dashboard/api';
let csrfToken = null;
let onUnauthorized = () => {};

/** An API error with the server's words (Glance's JSON error body, or the status text). */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Called with no argument when an API call answers 401 (the session ended): shows sign-in. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/** Headers every state-changing request needs (also used by the XHR upload). */
export function csrfHeaders() {
  return csrfToken ? {'X-Glimmer-CSRF': csrfToken} : {};
}

/**
 * The server's message from an error body (Glance: {"message": …}; Keystone: {"error": {…}}).
 * Glance's messages carry webob's HTML joint: "detail<br /><br />\n\n\n", or
 * "explanation\n<br /><br />\ndetail"; the pieces are kept, the markup dropped.
 */
export function messageFromBody(text, fallback) {
  try {
    const body = JSON.parse(text);
    const message = body.message ?? body.error?.message ?? body.title;
    if (typeof message !== 'string') return fallback;
    const clean = message.split(/<br\s*\/?>/i).map((p) => p.replace(/\s+/g, ' ').trim()).filter(Boolean).join(' ');
    return clean || body.title || fallback;
  } catch {
    const stripped = String(text ?? '').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
    return stripped && stripped.length < 300 ? stripped : fallback;
  }
}

/**
 * A sentence for the user: what went wrong in plain words, then the server's own reason.
 * `action` completes "Could not …" ("delete the image").
 */
export function explain(error, action) {
  const reason = error?.message ? ` The server said: ${error.message.replace(/\.?$/, '.')}` : '';
  const head = action ? `Could not ${action}.` : 'That did not work.';
  switch (error?.status) {
    case 0: return `${head} The server could not be reached; check your connection and try again.`;
    case 400: return `${head} The server refused the values given.${reason}`;
    case 401: return `${head} Your session has ended; sign in again.`;
    case 403: return `${head} Your role in this project does not allow it.${reason}`;
    case 404: return `${head} It no longer exists, or it is not visible to this project.`;
    case 409: return `${head} The image is not in a state that allows it.${reason}`;
    case 410: return `${head} The image was deleted meanwhile.`;
    case 413: return `${head} It would exceed the project's quota or the size limit.${reason}`;
    case 415: return `${head} The data does not match the chosen format.${reason}`;
    case 429: return `${head} Too many requests; wait a little and try again.`;
    default:
      if (error?.status >= 500) return `${head} The server had a problem (${error.status}).${reason}`;
      return `${head}${reason || ` ${error?.message ?? ''}`}`;
  }
}

/** fetch() for the API: JSON in and out, the CSRF header on every call. */
export async function call(method, path, {json, headers = {}, signal, quiet401 = false} = {}) {
  const init = {method, signal, credentials: 'same-origin', headers: {...headers, ...csrfHeaders()}};
  init.headers.Accept = 'application/json';
  if (json !== undefined) {
    init.headers['Content-Type'] ??= 'application/json';
    init.body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server could not be reached.');
  }
  if (!response.ok) {
    const error = new ApiError(response.status,
                               messageFromBody(await response.text(), response.statusText));
    if (response.status === 401 && !quiet401) onUnauthorized();
    throw error;
  }
  if (response.status === 204 || response.status === 202) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

// ---- session ----------------------------------------------------------------------------------

function keep(session) {
  csrfToken = session.csrf_token;
  return session;
}

/** The current session ({user, project, projects, csrf_token, ...}), or null when signed out. */
export async function loadSession() {
  try {
    return keep(await call('GET', '/session', {quiet401: true}));
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

export async function signIn({domain, project, user, password}) {
  return keep(await call('POST', '/session', {json: {domain, project, user, password}, quiet401: true}));
}

export async function switchProject(projectId) {
  return keep(await call('PUT', '/session/project', {json: {project_id: projectId}}));
}

export async function signOut() {
  try {
    await call('DELETE', '/session', {quiet401: true});
  } finally {
    csrfToken = null;
  }
}

// ---- images -----------------------------------------------------------------------------------

/** GET /v2/images with a query (URLSearchParams); returns {images, next} (next = marker). */
export async function listImages(query, {signal} = {}) {
  const body = await call('GET', `/v2/images?${query}`, {signal});
  return {images: body.images, next: nextMarker(body)};
}

export const getImage = (id) => call('GET', `/v2/images/${encodeURIComponent(id)}`);
export const createImage = (body) => call('POST', '/v2/images', {json: body});
export const deleteImage = (id) => call('DELETE', `/v2/images/${encodeURIComponent(id)}`);
export const patchImage = (id, ops) =>
  call('PATCH', `/v2/images/${encodeURIComponent(id)}`, {json: ops, headers: {'Content-Type': PATCH_TYPE}});
export const imageAction = (id, action) =>
  call('POST', `/v2/images/${encodeURIComponent(id)}/actions/${action}`);
export const imageTasks = (id) => call('GET', `/v2/images/${encodeURIComponent(id)}/tasks`);
export const startImport = (id, method) =>
  call('POST', `/v2/images/${encodeURIComponent(id)}/import`, {json: {method}});
export const fileUrl = (id) => `${BASE}/v2/images/${encodeURIComponent(id)}/file`;

/** True when GET /v2/images/{id} answers 404 (used to confirm a delete). */
export async function imageGone(id) {
  try {
    await getImage(id);
    return false;
  } catch (e) {
    if (e.status === 404) return true;
    throw e;
  }
}

// ---- members ----------------------------------------------------------------------------------

const members = (id) => `/v2/images/${encodeURIComponent(id)}/members`;
export const listMembers = (id) => call('GET', members(id)).then((b) => b.members);
export const addMember = (id, project) => call('POST', members(id), {json: {member: project}});
export const removeMember = (id, project) =>
  call('DELETE', `${members(id)}/${encodeURIComponent(project)}`);
export const setMemberStatus = (id, project, status) =>
  call('PUT', `${members(id)}/${encodeURIComponent(project)}`, {json: {status}});

// ---- discovery --------------------------------------------------------------------------------

let importMethods = null;
/** The import methods /v2/info/import lists (cached for the page's life). */
export async function getImportMethods() {
  importMethods ??= call('GET', '/v2/info/import')
      .then((b) => b?.['import-methods']?.value ?? [])
      .catch((e) => { importMethods = null; throw e; });
  return importMethods;
}

let diskFormats = null;
/** The disk_format enum of /v2/schemas/image, or null when the schema does not say. */
export async function getDiskFormatEnum() {
  diskFormats ??= call('GET', '/v2/schemas/image')
      .then((s) => s?.properties?.disk_format?.enum ?? null)
      .catch(() => null);
  return diskFormats;
}

export const getUsage = () => call('GET', '/v2/info/usage');

// Project names for the owner column: the session's projects, plus (for admins) every project
// from /identity/v3/projects, cached for 5 minutes.
let projectCache = {at: 0, names: null};
export async function allProjectNames() {
  if (projectCache.names && Date.now() - projectCache.at < 300_000) return projectCache.names;
  const body = await call('GET', '/identity/v3/projects');
  const names = Object.fromEntries((body.projects ?? []).map((p) => [p.id, p.name]));
  projectCache = {at: Date.now(), names};
  return names;
}

/** Admin: the id of the project called `name`, or null. */
export async function projectIdByName(name) {
  const body = await call('GET', `/identity/v3/projects?name=${encodeURIComponent(name)}`);
  return body.projects?.[0]?.id ?? null;
}

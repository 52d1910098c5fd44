// The dashboard's only way to the server. The session cookie (HttpOnly, so invisible here) is
// sent by the browser; this module adds the per-session CSRF token, which the server hands out
// in the session document and which lives only in this module's memory.
//
// Paths: /dashboard/api/session… are the session endpoints; /dashboard/api/v2/… and
// /dashboard/api/identity/v3/… reach the public API's own handlers, the server adding the
// session's token at its edge (docs/design/dashboard.md).

const BASE = '/dashboard/api';
let csrfToken = null;

/** An API error with the server's words (Glance's JSON error body, or the status text). */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function errorFrom(response) {
  let message = response.statusText;
  try {
    const body = await response.json();
    message = body.message ?? body.error?.message ?? body.title ?? message;
  } catch {
    // Not JSON: keep the status text.
  }
  return new ApiError(response.status, message);
}

/** fetch() for the API: JSON in and out, the CSRF header on every call. */
export async function call(method, path, {json, headers = {}, signal} = {}) {
  const init = {method, signal, credentials: 'same-origin', headers: {...headers}};
  init.headers.Accept = 'application/json';
  if (csrfToken) init.headers['X-Glimmer-CSRF'] = csrfToken;
  if (json !== undefined) {
    init.headers['Content-Type'] ??= 'application/json';
    init.body = JSON.stringify(json);
  }
  const response = await fetch(BASE + path, init);
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return null;
  return response.json();
}

/** The current session ({user, project, projects, csrf_token, ...}), or null when signed out. */
export async function loadSession() {
  try {
    const session = await call('GET', '/session');
    csrfToken = session.csrf_token;
    return session;
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

export async function signIn({domain, project, user, password}) {
  const session = await call('POST', '/session', {json: {domain, project, user, password}});
  csrfToken = session.csrf_token;
  return session;
}

export async function switchProject(projectId) {
  const session = await call('PUT', '/session/project', {json: {project_id: projectId}});
  csrfToken = session.csrf_token;
  return session;
}

export async function signOut() {
  await call('DELETE', '/session');
  csrfToken = null;
}

/** GET /v2/images with Glance's query parameters; returns {images, next} (next = marker URL). */
export async function listImages(params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.append(key, value);
  }
  const body = await call('GET', `/v2/images?${query}`);
  const next = body.next ? new URLSearchParams(body.next.split('?')[1] ?? '').get('marker') : null;
  return {images: body.images, next};
}

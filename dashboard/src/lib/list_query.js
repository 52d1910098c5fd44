// The images list's state, its URL form (hash parameters) and its GET /v2/images query.
// Everything here is pure so that the mapping is unit-tested (test/list_query.test.mjs).

export const PAGE_SIZES = [25, 50, 100];
export const SORT_KEYS = ['name', 'status', 'disk_format', 'size', 'created_at', 'updated_at'];
export const STATUSES = ['queued', 'saving', 'uploading', 'importing', 'active', 'deactivated',
                         'killed', 'pending_delete'];
export const VISIBILITIES = ['private', 'shared', 'community', 'public'];
export const MEMBER_STATUSES = ['pending', 'accepted', 'rejected', 'all'];
/** Statuses whose rows are refreshed every 2 s. */
export const TRANSITIONAL = new Set(['queued', 'saving', 'uploading', 'importing', 'pending_delete']);

export const TABS = [
  {id: 'project', label: 'Project'},
  {id: 'shared', label: 'Shared with me'},
  {id: 'public', label: 'Public'},
  {id: 'community', label: 'Community'},
  {id: 'all', label: 'All', admin: true},
];

const DEFAULTS = {
  tab: 'project', member: 'pending', name: '', status: '', visibility: '', format: '', tags: '',
  protected: '', size_min: '', size_max: '', unit: 'GiB', sort: 'created_at:desc', limit: 25,
  markers: [],
};
const FILTER_KEYS = ['name', 'status', 'visibility', 'format', 'tags', 'protected', 'size_min',
                     'size_max'];
const UNIT_BYTES = {MiB: 1024 ** 2, GiB: 1024 ** 3};

/** List state from the hash's parameters; unknown or bad values fall back to the defaults. */
export function listStateFromParams(params) {
  const get = (key) => params.get(key) ?? DEFAULTS[key];
  const s = {...DEFAULTS};
  for (const key of FILTER_KEYS) s[key] = get(key);
  s.tab = TABS.some((t) => t.id === get('tab')) ? get('tab') : DEFAULTS.tab;
  s.member = MEMBER_STATUSES.includes(get('member')) ? get('member') : DEFAULTS.member;
  s.unit = UNIT_BYTES[get('unit')] ? get('unit') : DEFAULTS.unit;
  const [key, dir] = String(get('sort')).split(':');
  s.sort = SORT_KEYS.includes(key) && ['asc', 'desc'].includes(dir) ? `${key}:${dir}` : DEFAULTS.sort;
  s.limit = PAGE_SIZES.includes(Number(get('limit'))) ? Number(get('limit')) : DEFAULTS.limit;
  s.markers = (params.get('m') ?? '').split(',').filter(Boolean);
  return s;
}

/** The hash parameters for a list state: only what differs from the defaults. */
export function listStateToParams(state) {
  const params = new URLSearchParams();
  for (const key of ['tab', 'member', ...FILTER_KEYS, 'unit', 'sort', 'limit']) {
    if (state[key] !== undefined && String(state[key]) !== String(DEFAULTS[key])) {
      params.set(key, String(state[key]));
    }
  }
  if (state.markers?.length) params.set('m', state.markers.join(','));
  return params;
}

/** Which filters are set (for "Clear filters" and the empty-list message). */
export function activeFilters(state) {
  return FILTER_KEYS.filter((key) => state[key] !== '' && state[key] !== DEFAULTS[key]);
}

/**
 * The filter form after the list state changed from `before` to `after`: fields the user edited
 * since `before` was applied (form differs from it) and that the change did not touch keep the
 * user's value; every other field shows the new state. A select applies at once, so a size typed
 * while that list loads must not be wiped when it arrives.
 */
export function mergeFilterForm(form, before, after) {
  return Object.fromEntries(Object.keys(after).map((k) =>
    [k, form[k] !== before[k] && after[k] === before[k] ? form[k] : after[k]]));
}

/**
 * Checks the filter inputs. Returns {field: message} for the ones Glance would refuse (it answers
 * 400 to a non-integer size), so the message can sit next to the field instead.
 */
export function validateFilters(state) {
  const errors = {};
  for (const key of ['size_min', 'size_max']) {
    const text = String(state[key]).trim();
    if (text && !(Number(text) >= 0)) errors[key] = 'Enter a size of 0 or more.';
  }
  if (!errors.size_min && !errors.size_max && state.size_min !== '' && state.size_max !== '' &&
      Number(state.size_min) > Number(state.size_max)) {
    errors.size_max = 'The largest size is smaller than the smallest.';
  }
  return errors;
}

/** Glance's `in:` list value: every item double-quoted, so commas and colons are literal. */
export function inList(values) {
  return `in:${values.map((v) => `"${String(v).replaceAll('"', '')}"`).join(',')}`;
}

/**
 * GET /v2/images query for a list state. `projectId` is the session's project (the Project tab
 * lists what it owns). Size filters are entered in MiB or GiB and sent in bytes.
 */
export function imagesQuery(state, projectId) {
  const q = new URLSearchParams();
  switch (state.tab) {
    case 'project': q.set('owner', projectId); break;
    case 'shared': q.set('visibility', 'shared'); q.set('member_status', state.member); break;
    case 'public': q.set('visibility', 'public'); break;
    case 'community': q.set('visibility', 'community'); break;
    case 'all': q.set('visibility', 'all'); break;
  }
  if ((state.tab === 'project' || state.tab === 'all') && state.visibility) {
    q.set('visibility', state.visibility);
  }
  const name = state.name.trim();
  if (name) q.set('name', inList([name]));
  if (state.status) q.set('status', state.status);
  if (state.format) q.set('disk_format', state.format);
  for (const tag of state.tags.split(',').map((t) => t.trim()).filter(Boolean)) q.append('tag', tag);
  if (state.protected === 'true' || state.protected === 'false') q.set('protected', state.protected);
  const errors = validateFilters(state);
  for (const key of ['size_min', 'size_max']) {
    const text = String(state[key]).trim();
    if (text && !errors[key]) q.set(key, String(Math.round(Number(text) * UNIT_BYTES[state.unit])));
  }
  q.set('sort', state.sort);
  q.set('limit', String(state.limit));
  if (state.markers.length) q.set('marker', state.markers[state.markers.length - 1]);
  return q;
}

/** The one request that refreshes the rows still changing: GET /v2/images?id=in:a,b,c. */
export function refreshQuery(ids) {
  const q = new URLSearchParams();
  q.set('id', inList(ids));
  q.set('limit', String(ids.length));
  return q;
}

/** The marker of Glance's `next` link ("/v2/images?...&marker=ID"), or null on the last page. */
export function nextMarker(body) {
  if (!body.next) return null;
  return new URLSearchParams(body.next.split('?')[1] ?? '').get('marker');
}

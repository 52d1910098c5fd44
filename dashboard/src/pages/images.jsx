// The images panel: tabs, filters, server-side paging (marker/limit) and sorting over
// GET /v2/images, with the whole list state in the URL hash (lib/list_query.js). Rows still
// changing (queued, saving, importing, …) are refreshed every 2 s with one id=in: request.
import {useEffect, useMemo, useRef, useState} from 'preact/hooks';

import {Field, Status} from '../components/field.jsx';
import {Tabs} from '../components/tabs.jsx';
import {toast} from '../components/toast.jsx';
import {allProjectNames, explain, listImages, setMemberStatus} from '../lib/api.js';
import {MEMBER_STATUSES, PAGE_SIZES, STATUSES, TABS, TRANSITIONAL, VISIBILITIES, activeFilters,
        imagesQuery, listStateFromParams, listStateToParams, mergeFilterForm, refreshQuery,
        validateFilters} from '../lib/list_query.js';
import {formatHash, navigate} from '../lib/router.js';
import {DISK_FORMATS} from '../lib/formats.js';
import {humanSize} from '../lib/units.js';
import {useUploads} from '../lib/uploads.js';
import {CreateImage} from './create_image.jsx';

const REFRESH_MS = 2000;

const COLUMNS = [
  ['owner', 'Owner', false], ['name', 'Name', true], ['type', 'Type', false],
  ['status', 'Status', true], ['visibility', 'Visibility', false], ['protected', 'Protected', false],
  ['disk_format', 'Format', true], ['size', 'Size', true], ['created_at', 'Created', true],
];
const OS_COLUMNS = [['os', 'OS', false], ['login', 'Login user', false]];

/** Image or snapshot, as Horizon tells them apart. */
export function imageType(image) {
  if (image.image_type === 'snapshot') return 'Snapshot';
  if (image.block_device_mapping?.includes?.('snapshot')) return 'Snapshot';
  return 'Image';
}

export function useProjectNames(session) {
  const own = useMemo(() => Object.fromEntries(session.projects.map((p) => [p.id, p.name])), [session]);
  const [names, setNames] = useState(own);
  useEffect(() => {
    if (!session.roles.includes('admin')) return;
    allProjectNames().then((all) => setNames({...all, ...own}), () => {});
  }, [session]);
  return names;
}

export function OwnerName({id, names}) {
  if (!id) return <span class="muted">none</span>;
  if (names[id]) return <span title={id}>{names[id]}</span>;
  return <span title={id} class="mono">{id.slice(0, 8)}</span>;
}

export function ImagesPanel({session, params}) {
  const state = useMemo(() => listStateFromParams(params), [params.toString()]);
  // `page.key` names the fetch the rows answer: until the rows of the current one arrive
  // (a click on Next changes the URL at once, the fetch starts after the render) the table is busy.
  const [page, setPage] = useState({images: [], next: null, key: null, error: ''});
  const [creating, setCreating] = useState(false);
  const [reload, setReload] = useState(0);
  const names = useProjectNames(session);
  const isAdmin = session.roles.includes('admin');
  const tabs = TABS.filter((t) => !t.admin || isAdmin);
  const jobs = useUploads();
  const doneJobs = jobs.filter((j) => j.phase === 'done' || j.phase === 'cancelled').length;

  const go = (changes, {keepPage = false} = {}) => {
    const next = {...state, ...changes};
    if (!keepPage) next.markers = [];
    navigate(formatHash(['images'], listStateToParams(next)));
  };

  // The page of images.
  const query = imagesQuery(state, session.project.id).toString();
  const fetchKey = `${query}#${reload}#${doneJobs}`;
  useEffect(() => {
    const abort = new AbortController();
    listImages(query, {signal: abort.signal}).then(
        (r) => setPage({...r, key: fetchKey, error: ''}),
        (e) => e.name !== 'AbortError' &&
               setPage({images: [], next: null, key: fetchKey, error: explain(e, 'list the images')}));
    return () => abort.abort();
  }, [fetchKey]);

  // Rows in a transitional state: one GET ?id=in:… every 2 s.
  const changing = page.images.filter((i) => TRANSITIONAL.has(i.status)).map((i) => i.id);
  const changingKey = changing.join(',');
  useEffect(() => {
    if (!changing.length) return undefined;
    const timer = setTimeout(async () => {
      try {
        const {images} = await listImages(refreshQuery(changing));
        const byId = Object.fromEntries(images.map((i) => [i.id, i]));
        setPage((p) => ({...p, images: p.images.map((i) => byId[i.id] ?? (changing.includes(i.id) ? {...i, status: 'deleted'} : i))}));
      } catch {
        setPage((p) => ({...p}));  // try again on the next tick
      }
    }, REFRESH_MS);
    return () => clearTimeout(timer);
  }, [changingKey, page]);

  const loading = page.key !== fetchKey;
  const rows = state.tab === 'shared'
    ? page.images.filter((i) => i.owner !== session.project.id) : page.images;
  const withOs = state.tab === 'public';
  const columns = withOs ? [...COLUMNS.slice(0, 2), ...OS_COLUMNS, ...COLUMNS.slice(2)] : COLUMNS;
  const [sortKey, sortDir] = state.sort.split(':');
  const sortBy = (key) => go({sort: `${key}:${sortKey === key && sortDir === 'asc' ? 'desc' : 'asc'}`});

  async function answer(image, status) {
    try {
      await setMemberStatus(image.id, session.project.id, status);
      toast(`${status === 'accepted' ? 'Accepted' : 'Rejected'} "${image.name ?? image.id}".`);
      setReload((n) => n + 1);
    } catch (e) {
      toast(explain(e, `${status === 'accepted' ? 'accept' : 'reject'} the image`), 'error');
    }
  }

  return (
    <section aria-labelledby="images-title" class="images-panel">
      <div class="page-head">
        <h1 id="images-title" tabIndex={-1}>Images</h1>
        <button type="button" class="primary" onClick={() => setCreating(true)}>Create Image</button>
      </div>
      <Tabs label="Which images" tabs={tabs} selected={state.tab} panelId="images-tabpanel"
            onSelect={(tab) => go({tab, visibility: ''})} />
      <div id="images-tabpanel" role="tabpanel" aria-labelledby={`tab-${state.tab}`}>
        {state.tab === 'shared' && (
          <div class="member-filter">
            <Field id="member-status" label="Invitations">
              <select value={state.member} onChange={(e) => go({member: e.currentTarget.value})}>
                {MEMBER_STATUSES.map((s) => <option value={s}>{s === 'all' ? 'All' : s[0].toUpperCase() + s.slice(1)}</option>)}
              </select>
            </Field>
            <p class="hint">Images other projects shared with {session.project.name}. Accepted ones
              also appear in the image lists of the command line and of instance creation.</p>
          </div>
        )}
        <Filters state={state} go={go} />
        {page.error && <p class="error" role="alert">{page.error}</p>}
        <div class="table-wrap">
          <table class="images" aria-busy={loading ? 'true' : 'false'} aria-describedby="images-caption">
            <caption id="images-caption" class="visually-hidden">
              {TABS.find((t) => t.id === state.tab).label} images, sorted by {sortKey} {sortDir}ending</caption>
            <thead>
              <tr>
                {columns.map(([key, label, sortable]) => (
                  <th scope="col" aria-sort={sortKey === key ? `${sortDir}ending` : undefined}>
                    {sortable
                      ? <button type="button" class="sort" onClick={() => sortBy(key)}>{label}
                          <span aria-hidden="true">{sortKey === key ? (sortDir === 'asc' ? ' ▲' : ' ▼') : ''}</span></button>
                      : label}
                  </th>
                ))}
                {state.tab === 'shared' && <th scope="col">Invitation</th>}
              </tr>
            </thead>
            <tbody>
              {rows.map((image) => (
                <tr key={image.id} data-id={image.id}>
                  <td data-label="Owner"><OwnerName id={image.owner} names={names} /></td>
                  <td data-label="Name"><a href={`#/images/${image.id}`}>{image.name || image.id}</a></td>
                  {withOs && <td data-label="OS">{[image.os_distro, image.os_version].filter(Boolean).join(' ')}</td>}
                  {withOs && <td data-label="Login user">{image.os_admin_user ?? ''}</td>}
                  <td data-label="Type">{imageType(image)}</td>
                  <td data-label="Status">
                    <Status value={image.status} />
                    {TRANSITIONAL.has(image.status) && <span class="visually-hidden"> (updating)</span>}
                  </td>
                  <td data-label="Visibility">{image.visibility}</td>
                  <td data-label="Protected">{image.protected ? 'Yes' : 'No'}</td>
                  <td data-label="Format">{(image.disk_format ?? '').toUpperCase()}</td>
                  <td data-label="Size">{humanSize(image.size)}</td>
                  <td data-label="Created"><time datetime={image.created_at} title={image.created_at}>
                    {image.created_at?.slice(0, 16).replace('T', ' ')}</time></td>
                  {state.tab === 'shared' && (
                    <td data-label="Invitation" class="row-actions">
                      {state.member !== 'accepted' && state.member !== 'all' &&
                        <button type="button" onClick={() => answer(image, 'accepted')}
                                aria-label={`Accept ${image.name ?? image.id}`}>Accept</button>}
                      {state.member !== 'rejected' && state.member !== 'all' &&
                        <button type="button" onClick={() => answer(image, 'rejected')}
                                aria-label={`Reject ${image.name ?? image.id}`}>Reject</button>}
                      {state.member === 'all' && <a href={`#/images/${image.id}`}>Answer on the image page</a>}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {!loading && rows.length === 0 && !page.error && (
          <p class="empty">{activeFilters(state).length ? 'No image matches these filters.'
            : state.tab === 'shared' ? `No ${state.member === 'all' ? '' : `${state.member} `}invitations.` : 'No images here yet.'}</p>
        )}
        <nav class="pager" aria-label="Pages">
          <button type="button" disabled={!state.markers.length}
                  onClick={() => go({markers: state.markers.slice(0, -1)}, {keepPage: true})}>Previous</button>
          <span aria-live="polite">Page {state.markers.length + 1}</span>
          <button type="button" disabled={!page.next}
                  onClick={() => go({markers: [...state.markers, page.next]}, {keepPage: true})}>Next</button>
          <label for="page-size">Per page</label>
          <select id="page-size" value={state.limit} onChange={(e) => go({limit: Number(e.currentTarget.value)})}>
            {PAGE_SIZES.map((n) => <option value={n}>{n}</option>)}
          </select>
        </nav>
      </div>
      {creating && <CreateImage session={session} onClose={() => setCreating(false)} />}
    </section>
  );
}

function Filters({state, go}) {
  const [form, setForm] = useState(state);
  const applied = useRef(state);
  useEffect(() => {
    const before = applied.current;
    applied.current = state;
    setForm((f) => mergeFilterForm(f, before, state));
  }, [state]);
  const errors = validateFilters(form);
  const set = (key) => (e) => setForm({...form, [key]: e.currentTarget.value});
  const setNow = (key) => (e) => {
    const next = {...form, [key]: e.currentTarget.value};
    setForm(next);
    if (!Object.keys(validateFilters(next)).length) go(next);
  };
  const anySet = activeFilters(state).length > 0;
  const visibilityFilter = state.tab === 'project' || state.tab === 'all';

  return (
    <form class="filters" role="search" aria-label="Filter images"
          onSubmit={(e) => { e.preventDefault(); if (!Object.keys(errors).length) go(form); }}>
      <Field id="filter-name" label="Name" hint="The exact name">
        <input type="search" value={form.name} onInput={set('name')} />
      </Field>
      <Field id="filter-status" label="Status">
        <select value={form.status} onChange={setNow('status')}>
          <option value="">Any</option>
          {STATUSES.map((s) => <option value={s}>{s}</option>)}
        </select>
      </Field>
      {visibilityFilter && (
        <Field id="filter-visibility" label="Visibility">
          <select value={form.visibility} onChange={setNow('visibility')}>
            <option value="">Any</option>
            {VISIBILITIES.map((v) => <option value={v}>{v}</option>)}
          </select>
        </Field>
      )}
      <Field id="filter-format" label="Format">
        <select value={form.format} onChange={setNow('format')}>
          <option value="">Any</option>
          {DISK_FORMATS.filter(([f]) => f !== 'docker' && f !== 'ova').map(([f]) => <option value={f}>{f.toUpperCase()}</option>)}
        </select>
      </Field>
      <Field id="filter-tags" label="Tags" hint="Comma-separated; all must match">
        <input value={form.tags} onInput={set('tags')} />
      </Field>
      <Field id="filter-protected" label="Protected">
        <select value={form.protected} onChange={setNow('protected')}>
          <option value="">Any</option><option value="true">Yes</option><option value="false">No</option>
        </select>
      </Field>
      <fieldset class="size-range">
        <legend>Size</legend>
        <Field id="filter-size-min" label="From" error={errors.size_min}>
          <input type="number" min="0" step="any" inputMode="decimal" value={form.size_min} onInput={set('size_min')} />
        </Field>
        <Field id="filter-size-max" label="To" error={errors.size_max}>
          <input type="number" min="0" step="any" inputMode="decimal" value={form.size_max} onInput={set('size_max')} />
        </Field>
        <Field id="filter-unit" label="Unit">
          <select value={form.unit} onChange={set('unit')}>
            <option value="MiB">MiB</option><option value="GiB">GiB</option>
          </select>
        </Field>
      </fieldset>
      <div class="filter-actions">
        <button type="submit" class="primary" disabled={Object.keys(errors).length > 0}>Apply filters</button>
        {anySet && (
          <button type="button" onClick={() => {
            const cleared = {name: '', status: '', visibility: '', format: '', tags: '', protected: '',
                             size_min: '', size_max: ''};
            setForm({...form, ...cleared});
            go(cleared);
          }}>Clear filters</button>
        )}
      </div>
    </form>
  );
}

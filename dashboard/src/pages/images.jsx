// The images panel: tabs, filters, server-side paging (marker/limit) and sorting over
// GET /v2/images. The URL hash is not yet used for state (scaffold); the design doc keeps tab,
// filters, sort and marker in it so that reload and Back work.
import {useEffect, useState} from 'preact/hooks';

import {listImages} from '../lib/api.js';
import {humanSize} from '../lib/units.js';

const PAGE_SIZE = 25;
const TRANSITIONAL = new Set(['queued', 'saving', 'uploading', 'importing', 'pending_delete']);

// Tab -> GET /v2/images parameters (Glance's visibility filter; "Shared with me" by member status).
const TABS = [
  {id: 'project', label: 'Project', params: (s) => ({owner: s.project.id})},
  {id: 'shared', label: 'Shared with me', params: () => ({visibility: 'shared', member_status: 'all'})},
  {id: 'public', label: 'Public', params: () => ({visibility: 'public'})},
  {id: 'community', label: 'Community', params: () => ({visibility: 'community'})},
  {id: 'all', label: 'All', params: () => ({visibility: 'all'}), admin: true},
];

const COLUMNS = [
  ['owner', 'Owner'], ['name', 'Name'], ['type', 'Type', false], ['status', 'Status'],
  ['visibility', 'Visibility'], ['protected', 'Protected', false], ['disk_format', 'Format'],
  ['size', 'Size'], ['created_at', 'Created'],
];

export function ImagesPanel({session}) {
  const [tab, setTab] = useState('project');
  const [name, setName] = useState('');
  const [sort, setSort] = useState({key: 'created_at', dir: 'desc'});
  const [markers, setMarkers] = useState([null]);  // marker of each page seen, for Previous
  const [page, setPage] = useState({images: [], next: null, loading: true, error: ''});
  const marker = markers[markers.length - 1];
  const projectNames = Object.fromEntries(session.projects.map((p) => [p.id, p.name]));
  const isAdmin = session.roles.includes('admin');

  useEffect(() => {
    let cancelled = false;
    const params = {
      ...TABS.find((t) => t.id === tab).params(session),
      name: name ? `in:"${name.replaceAll('"', '')}"` : undefined,  // exact match, as Glance
      sort: `${sort.key}:${sort.dir}`,
      limit: PAGE_SIZE,
      marker,
    };
    setPage((p) => ({...p, loading: true, error: ''}));
    listImages(params).then(
        (r) => !cancelled && setPage({...r, loading: false, error: ''}),
        (e) => !cancelled && setPage({images: [], next: null, loading: false, error: e.message}));
    return () => { cancelled = true; };
  }, [tab, name, sort, marker, session]);

  const reset = () => setMarkers([null]);
  const sortBy = (key) => {
    setSort(sort.key === key ? {key, dir: sort.dir === 'asc' ? 'desc' : 'asc'} : {key, dir: 'asc'});
    reset();
  };

  return (
    <section aria-labelledby="images-title">
      <h2 id="images-title">Images</h2>
      <div role="tablist" aria-label="Which images">
        {TABS.filter((t) => !t.admin || isAdmin).map((t) => (
          <button role="tab" id={`tab-${t.id}`} aria-selected={tab === t.id}
                  onClick={() => { setTab(t.id); reset(); }}>{t.label}</button>
        ))}
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label for="filter-name">Name</label>
        <input id="filter-name" type="search" value={name}
               onChange={(e) => { setName(e.currentTarget.value); reset(); }} />
      </form>
      {page.error && <p class="error" role="alert">Could not list images: {page.error}</p>}
      <table class="images" aria-busy={page.loading}>
        <thead>
          <tr>
            {COLUMNS.map(([key, label, sortable = true]) => (
              <th scope="col" aria-sort={sort.key === key ? `${sort.dir}ending` : undefined}>
                {sortable ? <button class="sort" onClick={() => sortBy(key)}>{label}</button> : label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {page.images.map((image) => (
            <tr>
              <td data-label="Owner">{projectNames[image.owner] ?? image.owner?.slice(0, 8)}</td>
              <td data-label="Name"><a href={`#/images/${image.id}`}>{image.name || image.id}</a></td>
              <td data-label="Type">{image.image_type === 'snapshot' ? 'Snapshot' : 'Image'}</td>
              <td data-label="Status">
                <span class={`status status-${image.status}`}>{image.status}</span>
                {TRANSITIONAL.has(image.status) && <span class="visually-hidden"> (updating)</span>}
              </td>
              <td data-label="Visibility">{image.visibility}</td>
              <td data-label="Protected">{image.protected ? 'Yes' : 'No'}</td>
              <td data-label="Format">{(image.disk_format ?? '').toUpperCase()}</td>
              <td data-label="Size">{humanSize(image.size)}</td>
              <td data-label="Created"><time datetime={image.created_at}>
                {image.created_at?.slice(0, 10)}</time></td>
            </tr>
          ))}
        </tbody>
      </table>
      {!page.loading && page.images.length === 0 && !page.error && <p>No images.</p>}
      <nav class="pager" aria-label="Pages">
        <button disabled={markers.length === 1} onClick={() => setMarkers(markers.slice(0, -1))}>
          Previous</button>
        <span>Page {markers.length}</span>
        <button disabled={!page.next} onClick={() => setMarkers([...markers, page.next])}>
          Next</button>
      </nav>
    </section>
  );
}

// One image: every field and property, hashes, members, tasks; edit (one JSON-patch),
// deactivate/reactivate, delete (guarded when protected), download, and sharing.
import {useEffect, useState} from 'preact/hooks';

import {Confirm, Dialog} from '../components/dialog.jsx';
import {Field, Status} from '../components/field.jsx';
import {toast} from '../components/toast.jsx';
import {addMember, deleteImage, explain, fileUrl, getImage, imageAction, imageGone, imageTasks,
        listMembers, patchImage, projectIdByName, removeMember, setMemberStatus} from '../lib/api.js';
import {minDiskShortfall} from '../lib/formats.js';
import {TRANSITIONAL} from '../lib/list_query.js';
import {buildPatch, customProperties, validateProperties} from '../lib/patch.js';
import {navigate} from '../lib/router.js';
import {humanSize} from '../lib/units.js';
import {PropertyRows, visibilityChoices} from './create_image.jsx';
import {OwnerName, imageType, useProjectNames} from './images.jsx';

export function ImageDetail({session, id}) {
  const [image, setImage] = useState(null);
  const [error, setError] = useState('');
  const [dialog, setDialog] = useState(null);  // 'edit' | 'delete' | null
  const [busy, setBusy] = useState('');
  const [reload, setReload] = useState(0);
  const names = useProjectNames(session);

  useEffect(() => {
    let stop = false;
    getImage(id).then((i) => !stop && setImage(i),
                      (e) => !stop && setError(explain(e, 'show this image')));
    return () => { stop = true; };
  }, [id, reload]);

  // While the image changes state, refresh it every 2 s.
  useEffect(() => {
    if (!image || !TRANSITIONAL.has(image.status)) return undefined;
    const t = setTimeout(() => setReload((n) => n + 1), 2000);
    return () => clearTimeout(t);
  }, [image]);

  if (error) {
    return (<section><h1 tabIndex={-1}>Image</h1><p class="error" role="alert">{error}</p>
      <p><a href="#/images">Back to the images</a></p></section>);
  }
  if (!image) return <section><h1 tabIndex={-1}>Image</h1><p aria-busy="true">Loading…</p></section>;

  const admin = session.roles.includes('admin');
  const owned = image.owner === session.project.id || admin;
  const title = image.name || image.id;

  async function act(label, fn, done) {
    setBusy(label);
    try {
      await fn();
      toast(done);
      setReload((n) => n + 1);
    } catch (e) {
      toast(explain(e, label), 'error');
    } finally {
      setBusy('');
    }
  }

  async function onDelete(yes) {
    setDialog(null);
    if (!yes) return;
    setBusy('delete the image');
    try {
      await deleteImage(image.id);
      if (!(await imageGone(image.id))) throw new Error('the image is still there');
      toast(`Deleted "${title}".`);
      navigate('#/images');
    } catch (e) {
      toast(explain(e, 'delete the image'), 'error');
      setBusy('');
    }
  }

  const shortfall = minDiskShortfall(image);
  return (
    <section class="detail" aria-labelledby="detail-title">
      <p class="crumbs"><a href="#/images">Images</a> /</p>
      <div class="page-head">
        <h1 id="detail-title" tabIndex={-1}>{title}</h1>
        <Status value={image.status} />
      </div>
      <div class="actions" role="group" aria-label="Image actions">
        {owned && <button type="button" onClick={() => setDialog('edit')} disabled={!!busy}>Edit</button>}
        {owned && image.status === 'active' && (
          <button type="button" disabled={!!busy}
                  onClick={() => act('deactivate the image', () => imageAction(image.id, 'deactivate'),
                                     `Deactivated "${title}": its data cannot be downloaded or booted until reactivated.`)}>
            Deactivate</button>
        )}
        {owned && image.status === 'deactivated' && (
          <button type="button" disabled={!!busy}
                  onClick={() => act('reactivate the image', () => imageAction(image.id, 'reactivate'), `Reactivated "${title}".`)}>
            Reactivate</button>
        )}
        {image.size !== null && image.status === 'active' && (
          <a class="button" href={fileUrl(image.id)} download={`${(image.name || image.id).replace(/[\\/]/g, '_')}.${image.disk_format ?? 'img'}`}>
            Download ({humanSize(image.size)})</a>
        )}
        {owned && (
          <span class="with-reason">
            <button type="button" class="danger" disabled={image.protected || !!busy}
                    aria-describedby={image.protected ? 'delete-why' : undefined}
                    onClick={() => setDialog('delete')}>Delete</button>
            {image.protected && <span id="delete-why" class="hint">Protected: turn protection off (Edit) to delete it.</span>}
          </span>
        )}
        {busy && <span class="hint" aria-live="polite">Working: {busy}…</span>}
      </div>
      {shortfall && (
        <div class="warning" role="alert">
          <p>The virtual size is {humanSize(image.virtual_size)} but the minimum disk is {image.min_disk} GiB:
            instances would get a root disk too small for it.</p>
          {owned && (
            <button type="button" onClick={() => act('change the minimum disk',
                () => patchImage(image.id, [{op: 'replace', path: '/min_disk', value: shortfall.needed}]),
                `Minimum disk set to ${shortfall.needed} GiB.`)}>Set minimum disk to {shortfall.needed} GiB</button>
          )}
        </div>
      )}
      <Overview image={image} names={names} />
      <Sharing session={session} image={image} owned={owned} onChanged={() => setReload((n) => n + 1)} />
      <Tasks image={image} />
      {dialog === 'edit' && (
        <EditImage session={session} image={image} onClose={() => setDialog(null)}
                   onSaved={(i) => { setImage(i); setDialog(null); }} />
      )}
      {dialog === 'delete' && (
        <Confirm title={`Delete "${title}"?`} confirmLabel="Delete image" danger onAnswer={onDelete}>
          <p>The image and its data are deleted for good{image.visibility !== 'private' ? '; other projects using it lose it too' : ''}.
            Instances already running from it keep working.</p>
        </Confirm>
      )}
    </section>
  );
}

function Row({label, children, mono = false}) {
  return (<><dt>{label}</dt><dd class={mono ? 'mono' : ''}>{children ?? <span class="muted">not set</span>}</dd></>);
}

function Copyable({value}) {
  if (!value) return <span class="muted">not set</span>;
  return (
    <span class="copyable">
      <code>{value}</code>
      <button type="button" class="small" onClick={() => navigator.clipboard?.writeText(value).then(
          () => toast('Copied.', 'info'), () => toast('The browser did not allow copying; select the text instead.', 'error'))}>Copy</button>
    </span>
  );
}

function Overview({image, names}) {
  const props = customProperties(image);
  const service = Object.entries(image).filter(([k]) => k.startsWith('os_glance'));
  return (
    <>
      <h2>Overview</h2>
      <dl class="fields">
        <Row label="ID" mono>{image.id}</Row>
        <Row label="Owner"><OwnerName id={image.owner} names={names} /></Row>
        <Row label="Type">{imageType(image)}</Row>
        <Row label="Visibility">{image.visibility}</Row>
        <Row label="Protected">{image.protected ? 'Yes' : 'No'}</Row>
        <Row label="Hidden from lists">{image.os_hidden ? 'Yes' : 'No'}</Row>
        <Row label="Disk format">{image.disk_format?.toUpperCase()}</Row>
        <Row label="Container format">{image.container_format}</Row>
        <Row label="Size">{image.size === null ? null : `${humanSize(image.size)} (${image.size.toLocaleString('en')} bytes)`}</Row>
        <Row label="Virtual size">{image.virtual_size === null || image.virtual_size === undefined ? null
          : `${humanSize(image.virtual_size)} (${image.virtual_size.toLocaleString('en')} bytes)`}</Row>
        <Row label="Minimum disk">{`${image.min_disk} GiB`}</Row>
        <Row label="Minimum RAM">{`${image.min_ram} MiB`}</Row>
        <Row label="Checksum (MD5)"><Copyable value={image.checksum} /></Row>
        <Row label={`Hash${image.os_hash_algo ? ` (${image.os_hash_algo})` : ''}`}><Copyable value={image.os_hash_value} /></Row>
        <Row label="Hash algorithm">{image.os_hash_algo}</Row>
        <Row label="Stores">{image.stores}</Row>
        <Row label="Tags">{image.tags?.length ? <ul class="tags">{image.tags.map((t) => <li>{t}</li>)}</ul> : null}</Row>
        <Row label="Created"><time datetime={image.created_at}>{image.created_at}</time></Row>
        <Row label="Updated"><time datetime={image.updated_at}>{image.updated_at}</time></Row>
        {image.direct_url && <Row label="Direct URL" mono>{image.direct_url}</Row>}
      </dl>
      <h2>Properties</h2>
      {Object.keys(props).length === 0 ? <p class="muted">No custom properties.</p> : (
        <dl class="fields">
          {Object.entries(props).sort().map(([k, v]) => <Row label={k}>{v}</Row>)}
        </dl>
      )}
      {service.length > 0 && (
        <>
          <h3>Set by the image service</h3>
          <dl class="fields">{service.map(([k, v]) => <Row label={k} mono>{String(v)}</Row>)}</dl>
        </>
      )}
    </>
  );
}

function Sharing({session, image, owned, onChanged}) {
  const [members, setMembers] = useState(null);
  const [error, setError] = useState('');
  const [who, setWho] = useState('');
  const [fieldError, setFieldError] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [reload, setReload] = useState(0);
  const isMember = !owned && image.visibility === 'shared';

  useEffect(() => {
    if (image.visibility !== 'shared') { setMembers([]); return; }
    listMembers(image.id).then(setMembers, (e) => setError(explain(e, 'list the members')));
  }, [image.id, image.visibility, reload]);

  if (!owned && !isMember) return null;

  async function resolve(text) {
    const t = text.trim();
    const own = session.projects.find((p) => p.name === t || p.id === t);
    if (own) return own.id;
    if (/^[0-9a-f]{32}$/i.test(t) || /^[0-9a-f-]{36}$/i.test(t)) return t;
    if (session.roles.includes('admin')) {
      const found = await projectIdByName(t);
      if (found) return found;
      throw new Error(`No project is called "${t}".`);
    }
    throw new Error(`"${t}" is not a project you belong to. Enter the other project's ID (its members see it on their API access page).`);
  }

  async function add(e) {
    e.preventDefault();
    setFieldError('');
    if (!who.trim()) { setFieldError('Enter a project name or ID.'); return; }
    setBusy(true);
    try {
      const projectId = await resolve(who);
      if (projectId === image.owner) throw new Error('That is the project that owns the image.');
      if (image.visibility === 'private') {
        await patchImage(image.id, [{op: 'replace', path: '/visibility', value: 'shared'}]);
        setNote('The image was private; it is now "shared" so that members can be added. Only the projects listed here can see it.');
      }
      await addMember(image.id, projectId);
      toast(`Shared "${image.name ?? image.id}" with ${session.projects.find((p) => p.id === projectId)?.name ?? projectId}. It appears there once accepted.`);
      setWho('');
      setReload((n) => n + 1);
      onChanged();
    } catch (err) {
      setFieldError(err.status !== undefined ? explain(err, 'add the member') : err.message);
    } finally {
      setBusy(false);
    }
  }

  async function remove(m) {
    try {
      await removeMember(image.id, m.member_id);
      toast(`Removed ${m.member_id} from the members.`);
      setReload((n) => n + 1);
    } catch (err) {
      toast(explain(err, 'remove the member'), 'error');
    }
  }

  async function answer(status) {
    try {
      await setMemberStatus(image.id, session.project.id, status);
      toast(`${status === 'accepted' ? 'Accepted' : 'Rejected'} the image.`);
      setReload((n) => n + 1);
    } catch (err) {
      toast(explain(err, 'answer the invitation'), 'error');
    }
  }

  const names = Object.fromEntries(session.projects.map((p) => [p.id, p.name]));
  return (
    <section aria-labelledby="sharing-title">
      <h2 id="sharing-title">Sharing</h2>
      {note && <p class="note" role="status">{note}</p>}
      {error && <p class="error">{error}</p>}
      {isMember && members?.[0] && (
        <div class="invitation">
          <p>This image was shared with {session.project.name}. Your answer: <strong>{members[0].status}</strong>.</p>
          {members[0].status !== 'accepted' && <button type="button" onClick={() => answer('accepted')}>Accept</button>}
          {members[0].status !== 'rejected' && <button type="button" onClick={() => answer('rejected')}>Reject</button>}
        </div>
      )}
      {owned && (
        <>
          {members?.length ? (
            <table class="members">
              <thead><tr><th scope="col">Project</th><th scope="col">Status</th><th scope="col">Since</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
              <tbody>
                {members.map((m) => (
                  <tr>
                    <td data-label="Project">{names[m.member_id] ?? <span class="mono">{m.member_id}</span>}</td>
                    <td data-label="Status">{m.status}</td>
                    <td data-label="Since">{m.created_at}</td>
                    <td><button type="button" onClick={() => remove(m)} aria-label={`Remove ${names[m.member_id] ?? m.member_id}`}>Remove</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : <p class="muted">{image.visibility === 'shared' ? 'No member projects yet.' : `The image is ${image.visibility}; adding a project makes it shared.`}</p>}
          <form class="add-member" onSubmit={add}>
            <Field id="member-project" label="Share with project (name or ID)" error={fieldError}>
              <input value={who} onInput={(e) => setWho(e.currentTarget.value)} autocomplete="off" />
            </Field>
            <button type="submit" disabled={busy}>Add member</button>
          </form>
        </>
      )}
    </section>
  );
}

function Tasks({image}) {
  const [tasks, setTasks] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    imageTasks(image.id).then((b) => setTasks(b?.tasks ?? []), (e) => setError(explain(e, 'list the tasks')));
  }, [image.id, image.status, image.updated_at]);
  return (
    <section aria-labelledby="tasks-title">
      <h2 id="tasks-title">Tasks</h2>
      {error && <p class="muted">{error}</p>}
      {tasks && tasks.length === 0 && <p class="muted">No import tasks for this image.</p>}
      {tasks?.length > 0 && (
        <table class="tasks">
          <thead><tr><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Message</th><th scope="col">Updated</th></tr></thead>
          <tbody>
            {tasks.map((t) => (
              <tr><td data-label="Type">{t.type}</td><td data-label="Status"><Status value={t.status} /></td>
                <td data-label="Message">{t.message || <span class="muted">none</span>}</td><td data-label="Updated">{t.updated_at}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function EditImage({session, image, onClose, onSaved}) {
  const props = customProperties(image);
  const known = ['description', 'os_distro', 'os_version', 'os_admin_user', 'architecture'];
  const [form, setForm] = useState({
    name: image.name ?? '', min_disk: String(image.min_disk), min_ram: String(image.min_ram),
    visibility: image.visibility, protected: image.protected, tags: (image.tags ?? []).join(', '),
    ...Object.fromEntries(known.map((k) => [k, props[k] ?? ''])),
    properties: Object.entries(props).filter(([k]) => !known.includes(k)).map(([key, value]) => ({key, value})),
  });
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const set = (key) => (e) => setForm({...form, [key]: e.currentTarget.value});
  const propErrors = validateProperties(form.properties);
  const errors = {};
  for (const key of ['min_disk', 'min_ram']) {
    if (!(Number.isInteger(Number(form[key])) && Number(form[key]) >= 0) || form[key] === '') errors[key] = 'Enter a whole number, 0 or more.';
  }
  const choices = visibilityChoices(session);
  if (!choices.some(([v]) => v === image.visibility)) choices.push([image.visibility, image.visibility]);

  async function save(e) {
    e.preventDefault();
    if (Object.keys(errors).length || Object.keys(propErrors).length) return;
    const properties = {};
    for (const k of known) properties[k] = form[k].trim();
    for (const {key, value} of form.properties) if (key.trim()) properties[key.trim()] = value;
    const ops = buildPatch(image, {
      name: form.name.trim(), min_disk: form.min_disk, min_ram: form.min_ram, visibility: form.visibility,
      protected: form.protected, tags: form.tags.split(','), properties,
    });
    if (!ops.length) { toast('Nothing changed.', 'info'); onClose(); return; }
    setBusy(true);
    setError('');
    try {
      const saved = await patchImage(image.id, ops);
      toast(`Saved ${ops.length} change${ops.length === 1 ? '' : 's'} to "${saved.name ?? saved.id}".`);
      onSaved(saved);
    } catch (err) {
      setError(explain(err, 'save the changes'));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Edit "${image.name ?? image.id}"`} onClose={onClose} wide>
      <form class="dialog-body edit-image" onSubmit={save} noValidate>
        <Field id="ed-name" label="Name"><input value={form.name} onInput={set('name')} maxLength={255} /></Field>
        <Field id="ed-description" label="Description"><textarea rows={2} value={form.description} onInput={set('description')} /></Field>
        <div class="row">
          <Field id="ed-min-disk" label="Minimum disk (GiB)" error={errors.min_disk}>
            <input type="number" min="0" value={form.min_disk} onInput={set('min_disk')} /></Field>
          <Field id="ed-min-ram" label="Minimum RAM (MiB)" error={errors.min_ram}>
            <input type="number" min="0" value={form.min_ram} onInput={set('min_ram')} /></Field>
        </div>
        <div class="row">
          <Field id="ed-os" label="OS"><input value={form.os_distro} onInput={set('os_distro')} list="ed-os-list" /></Field>
          <datalist id="ed-os-list">{['ubuntu', 'debian', 'centos', 'fedora', 'rhel', 'rocky', 'almalinux', 'windows', 'freebsd'].map((o) => <option value={o} />)}</datalist>
          <Field id="ed-os-version" label="OS version"><input value={form.os_version} onInput={set('os_version')} /></Field>
          <Field id="ed-login" label="Login user"><input value={form.os_admin_user} onInput={set('os_admin_user')} /></Field>
          <Field id="ed-arch" label="Architecture"><input value={form.architecture} onInput={set('architecture')} /></Field>
        </div>
        <Field id="ed-visibility" label="Visibility">
          <select value={form.visibility} onChange={set('visibility')}>
            {choices.map(([v, label]) => <option value={v}>{label}</option>)}
          </select>
        </Field>
        <label class="check"><input type="checkbox" checked={form.protected}
               onChange={(e) => setForm({...form, protected: e.currentTarget.checked})} /> Protected (cannot be deleted)</label>
        <Field id="ed-tags" label="Tags" hint="Comma-separated"><input value={form.tags} onInput={set('tags')} /></Field>
        <PropertyRows idPrefix="ed-prop" rows={form.properties} errors={propErrors}
                      onChange={(rows) => setForm({...form, properties: rows})} />
        <footer class="dialog-foot">
          {error && <p class="error" role="alert">{error}</p>}
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={busy}>{busy ? 'Saving…' : 'Save'}</button>
        </footer>
      </form>
    </Dialog>
  );
}

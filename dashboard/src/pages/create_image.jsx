// The Create Image dialog: Image File (streamed by XHR PUT /file) or Image Location
// (web-download, offered only when /v2/info/import lists it). The file's first bytes are read in
// the browser: the format is detected, a mismatch with the chosen format blocks Create until
// fixed or overridden, and the minimum disk is pre-filled from the header's virtual size.
import {useEffect, useState} from 'preact/hooks';

import {Dialog} from '../components/dialog.jsx';
import {Field} from '../components/field.jsx';
import {UploadProgress} from '../components/uploads.jsx';
import {toast} from '../components/toast.jsx';
import {getDiskFormatEnum, getImportMethods} from '../lib/api.js';
import {RAW_REASON, formatsFor, offeredFormats, suggestedMinDisk} from '../lib/formats.js';
import {fileReader, formatMismatch, sniffImage} from '../lib/image_sniff.js';
import {validateProperties} from '../lib/patch.js';
import {humanSize} from '../lib/units.js';
import {startFileUpload, startWebDownload, useUploads} from '../lib/uploads.js';

export const OS_CHOICES = ['almalinux', 'arch', 'centos', 'debian', 'fedora', 'freebsd', 'opensuse',
                           'rhel', 'rocky', 'ubuntu', 'windows', 'cirros', 'other'];

/** Visibility choices the session's capabilities allow (the API still decides). */
export function visibilityChoices(session) {
  const caps = session.capabilities ?? {};
  const admin = session.roles.includes('admin');
  const out = [['private', 'Private: this project only'], ['shared', 'Shared: this project and the projects you add']];
  if (caps.communitize_image ?? true) out.push(['community', 'Community: any project may use it, unlisted']);
  if (caps.publicize_image ?? admin) out.push(['public', 'Public: listed for every project']);
  return out;
}

/** The POST /v2/images body for the form (custom properties are strings; empty ones dropped). */
export function createBody(form) {
  const body = {
    name: form.name.trim(),
    ...formatsFor(form.format),
    min_disk: Number(form.min_disk) || 0,
    min_ram: Number(form.min_ram) || 0,
    visibility: form.visibility,
    protected: form.protected,
  };
  const props = {description: form.description, os_distro: form.os_distro, os_version: form.os_version,
                 os_admin_user: form.os_admin_user, architecture: form.architecture};
  if (form.os_distro === 'windows') props.os_type = 'windows';
  for (const {key, value} of form.properties) if (key.trim()) props[key.trim()] = value;
  for (const [k, v] of Object.entries(props)) if (v !== undefined && String(v).trim() !== '') body[k] = String(v).trim();
  return body;
}

export function CreateImage({session, onClose}) {
  const caps = session.capabilities ?? {};
  const canUpload = caps.upload_image ?? true;
  const [form, setForm] = useState({
    name: '', description: '', source: canUpload ? 'file' : 'url', url: '', format: 'raw',
    min_disk: '', min_ram: '', os_distro: '', os_version: '', os_admin_user: '', architecture: '',
    visibility: 'private', protected: false, properties: [], uploadAnyway: false,
  });
  const [touched, setTouched] = useState({format: false, min_disk: false});
  const [file, setFile] = useState(null);
  const [sniff, setSniff] = useState(null);  // {state: 'reading'|'done'|'error', detected, note}
  const [methods, setMethods] = useState(null);
  const [formatEnum, setFormatEnum] = useState(null);
  const [submitted, setSubmitted] = useState(false);
  const [jobKey, setJobKey] = useState(null);
  const job = useUploads().find((j) => j.key === jobKey);

  // The job went away (its empty image was deleted from the progress view): nothing left to show.
  useEffect(() => {
    if (jobKey !== null && !job) onClose();
  }, [jobKey, job]);
  useEffect(() => {
    getImportMethods().then(setMethods, () => setMethods([]));
    getDiskFormatEnum().then(setFormatEnum);
  }, []);
  const webDownload = methods?.includes('web-download');
  const formats = offeredFormats(formatEnum);
  const set = (key, value) => setForm((f) => ({...f, [key]: value}));
  const input = (key) => (e) => set(key, e.currentTarget.value);

  async function onFile(e) {
    const f = e.currentTarget.files[0] ?? null;
    setFile(f);
    setSniff(null);
    if (!f) return;
    if (!form.name) set('name', f.name.replace(/\.(img|raw|qcow2|vmdk|vhdx?|vdi|iso|gz|xz)$/i, ''));
    setSniff({state: 'reading'});
    try {
      const detected = await sniffImage(fileReader(f), f.size);
      setSniff({state: 'done', detected});
      const changes = {};
      if (!touched.format && detected.format && formats.some(([x]) => x === detected.format)) {
        changes.format = detected.format;
      }
      if (!touched.min_disk) changes.min_disk = String(suggestedMinDisk(detected, f.size).gib);
      setForm((cur) => ({...cur, ...changes, uploadAnyway: false}));
    } catch (err) {
      setSniff({state: 'error', note: `The file could not be read: ${err.message}`});
    }
  }

  // Validation, shown next to each field once Create was pressed (format mismatch at once).
  const errors = {};
  if (!form.name.trim()) errors.name = 'Give the image a name.';
  if (form.source === 'file' && !file) errors.file = 'Choose the image file to upload.';
  if (form.source === 'url') {
    let ok = false;
    try { ok = ['http:', 'https:'].includes(new URL(form.url).protocol); } catch { ok = false; }
    if (!ok) errors.url = 'Enter an http:// or https:// address the server can reach.';
  }
  for (const key of ['min_disk', 'min_ram']) {
    if (form[key] !== '' && !(Number.isInteger(Number(form[key])) && Number(form[key]) >= 0)) {
      errors[key] = 'Enter a whole number, 0 or more.';
    }
  }
  const propErrors = validateProperties(form.properties);
  const detected = form.source === 'file' && sniff?.state === 'done' ? sniff.detected : null;
  const mismatch = detected ? formatMismatch(formatsFor(form.format).disk_format, detected) : null;
  const blocked = mismatch && !form.uploadAnyway;
  const invalid = Object.keys(errors).length > 0 || Object.keys(propErrors).length > 0;
  const shown = submitted ? errors : {};
  const minDiskHint = detected && file
    ? `Pre-filled from ${suggestedMinDisk(detected, file.size).source}. In GiB: the smallest root disk an instance of this image may get.`
    : 'In GiB: the smallest root disk an instance of this image may get. Use the disk\'s full (virtual) size, not the file size.';

  function submit(e) {
    e.preventDefault();
    setSubmitted(true);
    if (invalid || blocked || sniff?.state === 'reading') return;
    const body = createBody(form);
    const started = form.source === 'file' ? startFileUpload(body, file) : startWebDownload(body, form.url.trim());
    setJobKey(started.key);
    toast(form.source === 'file' ? `Uploading "${body.name}".` : `Importing "${body.name}" from its URL.`, 'info');
  }

  if (job) {
    return (
      <Dialog title={`Create Image: ${job.name}`} onClose={onClose}>
        <div class="dialog-body"><UploadProgress job={job} /></div>
        <footer class="dialog-foot">
          <button type="button" onClick={onClose}>
            {['done', 'failed', 'cancelled'].includes(job.phase) ? 'Close' : 'Close (keeps running)'}</button>
        </footer>
      </Dialog>
    );
  }

  return (
    <Dialog title="Create Image" onClose={onClose} wide>
      <form class="create-image dialog-body" onSubmit={submit} noValidate>
        <fieldset>
          <legend>Image</legend>
          <Field id="ci-name" label="Name" error={shown.name}>
            <input value={form.name} onInput={input('name')} maxLength={255} required />
          </Field>
          <Field id="ci-description" label="Description">
            <textarea value={form.description} onInput={input('description')} maxLength={255} rows={2} />
          </Field>
        </fieldset>

        <fieldset>
          <legend>Source</legend>
          <div class="radios" role="radiogroup" aria-label="Image source">
            {canUpload && (
              <label><input type="radio" name="ci-source" value="file" checked={form.source === 'file'}
                            onChange={() => set('source', 'file')} /> Image File</label>
            )}
            {webDownload && (
              <label><input type="radio" name="ci-source" value="url" checked={form.source === 'url'}
                            onChange={() => set('source', 'url')} /> Image Location</label>
            )}
          </div>
          {methods && !webDownload && (
            <p class="hint">Image Location is not offered: this cloud does not enable the web-download import method.</p>
          )}
          {form.source === 'file' && (
            <Field id="ci-file" label="Image file" error={shown.file || (sniff?.state === 'error' ? sniff.note : '')}
                   hint={file ? `${humanSize(file.size)}. Sent straight to the image store; keep this tab open until it is done.` : ''}>
              <input type="file" onChange={onFile} />
            </Field>
          )}
          {form.source === 'url' && (
            <Field id="ci-url" label="Image location (URL)" error={shown.url}
                   hint="The server downloads the image from this address; it must be reachable from the cloud.">
              <input type="url" value={form.url} onInput={input('url')} placeholder="https://example.com/disk.img" />
            </Field>
          )}
          {sniff?.state === 'reading' && <p class="hint" aria-live="polite">Reading the file's header…</p>}
          {detected && (
            <p class="detected" aria-live="polite">
              Detected: {detected.format ? detected.format.toUpperCase() : `${detected.compression}-compressed data`}
              {detected.subformat ? ` (${detected.subformat})` : ''}
              {detected.virtualSize !== null && detected.format && detected.format !== 'raw'
                ? `, virtual size ${humanSize(detected.virtualSize)}` : ''}
              {detected.note ? `. ${detected.note}` : ''}
            </p>
          )}
        </fieldset>

        <fieldset>
          <legend>Format and requirements</legend>
          <Field id="ci-format" label="Format" hint={RAW_REASON} error={mismatch}>
            <select value={form.format}
                    onChange={(e) => { set('format', e.currentTarget.value); set('uploadAnyway', false); setTouched((t) => ({...t, format: true})); }}>
              {formats.map(([value, label]) => <option value={value}>{label}</option>)}
            </select>
          </Field>
          {mismatch && (
            <label class="check">
              <input type="checkbox" checked={form.uploadAnyway}
                     onChange={(e) => set('uploadAnyway', e.currentTarget.checked)} />
              {' '}Upload anyway (the server may refuse it)
            </label>
          )}
          <div class="row">
            <Field id="ci-min-disk" label="Minimum disk (GiB)" hint={minDiskHint} error={shown.min_disk}>
              <input type="number" min="0" step="1" value={form.min_disk}
                     onInput={(e) => { set('min_disk', e.currentTarget.value); setTouched((t) => ({...t, min_disk: true})); }} />
            </Field>
            <Field id="ci-min-ram" label="Minimum RAM (MiB)" hint="0 for no minimum" error={shown.min_ram}>
              <input type="number" min="0" step="1" value={form.min_ram} onInput={input('min_ram')} />
            </Field>
          </div>
        </fieldset>

        <fieldset>
          <legend>Operating system</legend>
          <div class="row">
            <Field id="ci-os" label="OS" hint="os_distro, e.g. ubuntu">
              <input value={form.os_distro} onInput={input('os_distro')} list="ci-os-list" autocomplete="off" />
            </Field>
            <datalist id="ci-os-list">{OS_CHOICES.map((o) => <option value={o} />)}</datalist>
            <Field id="ci-os-version" label="OS version" hint="e.g. 24.04">
              <input value={form.os_version} onInput={input('os_version')} />
            </Field>
            <Field id="ci-login" label="Login user" hint="os_admin_user, e.g. ubuntu">
              <input value={form.os_admin_user} onInput={input('os_admin_user')} />
            </Field>
            <Field id="ci-arch" label="Architecture" hint="e.g. x86_64, aarch64">
              <input value={form.architecture} onInput={input('architecture')} />
            </Field>
          </div>
        </fieldset>

        <fieldset>
          <legend>Sharing</legend>
          <Field id="ci-visibility" label="Visibility">
            <select value={form.visibility} onChange={input('visibility')}>
              {visibilityChoices(session).map(([v, label]) => <option value={v}>{label}</option>)}
            </select>
          </Field>
          <label class="check">
            <input type="checkbox" checked={form.protected} onChange={(e) => set('protected', e.currentTarget.checked)} />
            {' '}Protected: nobody can delete the image until this is turned off
          </label>
        </fieldset>

        <PropertyRows rows={form.properties} errors={propErrors} onChange={(rows) => set('properties', rows)} />

        <footer class="dialog-foot">
          {submitted && invalid && <p class="error" role="alert">Some fields need attention; see the messages next to them.</p>}
          {blocked && <p class="error">Create is disabled until the format matches the file, or you tick "Upload anyway".</p>}
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={blocked || sniff?.state === 'reading'}>Create Image</button>
        </footer>
      </form>
    </Dialog>
  );
}

/** Custom properties as key/value rows (shared with the edit dialog). */
export function PropertyRows({rows, errors, onChange, idPrefix = 'prop'}) {
  const edit = (i, key) => (e) => onChange(rows.map((r, j) => (j === i ? {...r, [key]: e.currentTarget.value} : r)));
  return (
    <fieldset class="properties">
      <legend>Custom properties</legend>
      {rows.length === 0 && <p class="hint">None. Properties such as hw_disk_bus or hw_qemu_guest_agent tune how instances run.</p>}
      {rows.map((row, i) => (
        <div class="prop-row">
          <Field id={`${idPrefix}-key-${i}`} label="Key" error={errors[i]}>
            <input value={row.key} onInput={edit(i, 'key')} autocomplete="off" />
          </Field>
          <Field id={`${idPrefix}-value-${i}`} label="Value">
            <input value={row.value} onInput={edit(i, 'value')} autocomplete="off" />
          </Field>
          <button type="button" aria-label={`Remove property ${row.key || i + 1}`}
                  onClick={() => onChange(rows.filter((_, j) => j !== i))}>Remove</button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...rows, {key: '', value: ''}])}>Add property</button>
    </fieldset>
  );
}

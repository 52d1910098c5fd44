// JSON-patch (application/openstack-images-v2.1-json-patch) for an image edit: one request with
// only the changed fields. Glance rules: base fields are replaced; a custom property is added
// when new, replaced when present, removed when cleared (replace or remove of a missing one is a
// 409); tags are replaced as a whole list; read-only fields are never sent.

export const PATCH_TYPE = 'application/openstack-images-v2.1-json-patch';

/** Base fields of the image record (glance-api §3.1): never custom properties. */
export const BASE_FIELDS = new Set([
  'id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'checksum', 'os_hash_algo',
  'os_hash_value', 'owner', 'size', 'virtual_size', 'container_format', 'disk_format', 'min_disk',
  'min_ram', 'tags', 'created_at', 'updated_at', 'self', 'file', 'schema', 'locations',
  'direct_url', 'stores']);
/** Base fields an owner may change after upload. */
const EDITABLE_BASE = ['name', 'visibility', 'protected', 'min_disk', 'min_ram', 'os_hidden'];

/** Properties the service owns or refuses (never offered for editing). */
export function isReadOnlyProperty(key) {
  return BASE_FIELDS.has(key) || key.startsWith('os_glance') ||
         ['location', 'deleted', 'deleted_at'].includes(key);
}

/** The custom properties of an image: {key: stringValue}. */
export function customProperties(image) {
  const out = {};
  for (const [key, value] of Object.entries(image)) {
    if (!isReadOnlyProperty(key)) out[key] = value === null ? '' : String(value);
  }
  return out;
}

const pointer = (key) => `/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;

/**
 * The patch turning `image` into the edited values. `edited` = {name, visibility, protected,
 * min_disk, min_ram, tags: [..], properties: {key: value}}; absent keys are left alone, and a
 * property missing from `edited.properties` (or set to '') is removed.
 */
export function buildPatch(image, edited) {
  const ops = [];
  for (const key of EDITABLE_BASE) {
    if (!(key in edited)) continue;
    let value = edited[key];
    if (key === 'min_disk' || key === 'min_ram') value = Number(value);
    if (key === 'name' && value === '' && image.name === null) continue;
    if (value !== image[key]) ops.push({op: 'replace', path: pointer(key), value});
  }
  if (edited.tags) {
    const now = [...new Set(edited.tags.map((t) => t.trim()).filter(Boolean))];
    const before = image.tags ?? [];
    if (now.length !== before.length || now.some((t) => !before.includes(t))) {
      ops.push({op: 'replace', path: '/tags', value: now});
    }
  }
  if (edited.properties) {
    const before = customProperties(image);
    const after = {};
    for (const [key, value] of Object.entries(edited.properties)) {
      const k = key.trim();
      if (k && value !== '' && value !== null && value !== undefined) after[k] = String(value);
    }
    for (const key of Object.keys(before)) {
      if (!(key in after)) ops.push({op: 'remove', path: pointer(key)});
    }
    for (const [key, value] of Object.entries(after)) {
      if (isReadOnlyProperty(key)) continue;
      if (!(key in before)) ops.push({op: 'add', path: pointer(key), value});
      else if (before[key] !== value) ops.push({op: 'replace', path: pointer(key), value});
    }
  }
  return ops;
}

/**
 * Checks custom property rows [{key, value}] before they are sent. Returns {index: message}:
 * reserved keys, duplicates, and over-long keys or values are refused by the server anyway.
 */
export function validateProperties(rows) {
  const errors = {};
  const seen = new Set();
  rows.forEach(({key}, i) => {
    const k = key.trim();
    if (!k) return;
    if (isReadOnlyProperty(k)) errors[i] = `"${k}" is set by the image service and cannot be changed here.`;
    else if (seen.has(k)) errors[i] = `"${k}" appears twice.`;
    else if (k.length > 255) errors[i] = 'A property name has at most 255 characters.';
    else if (rows[i].value.length > 65535) errors[i] = 'This value is too long.';
    seen.add(k);
  });
  return errors;
}

import assert from 'node:assert/strict';
import {test} from 'node:test';

import {buildPatch, customProperties, isReadOnlyProperty, validateProperties} from '../src/lib/patch.js';

const image = {
  id: 'x', name: 'old', status: 'active', visibility: 'private', protected: false, min_disk: 1, min_ram: 0,
  tags: ['a', 'b'], checksum: 'c', os_hash_algo: 'sha512', os_hash_value: 'h', size: 10, virtual_size: 10,
  disk_format: 'raw', container_format: 'bare', owner: 'p', created_at: 't', updated_at: 't',
  self: '/v2/images/x', file: '/v2/images/x/file', schema: '/v2/schemas/image',
  os_distro: 'ubuntu', description: 'desc', 'a/b~c': 'weird', os_glance_import_task: 'tid',
};
const same = {name: 'old', visibility: 'private', protected: false, min_disk: '1', min_ram: '0', tags: ['b', 'a'],
              properties: customProperties(image)};

test('custom properties exclude base and service fields', () => {
  assert.deepEqual(customProperties(image), {os_distro: 'ubuntu', description: 'desc', 'a/b~c': 'weird'});
  assert.ok(isReadOnlyProperty('os_glance_failed_import'));
  assert.ok(isReadOnlyProperty('checksum'));
  assert.ok(!isReadOnlyProperty('hw_disk_bus'));
});

test('no change, no operation', () => {
  assert.deepEqual(buildPatch(image, same), []);
});

test('base fields are replaced, numbers sent as numbers', () => {
  assert.deepEqual(buildPatch(image, {...same, name: 'new', min_disk: '20', protected: true, visibility: 'shared'}), [
    {op: 'replace', path: '/name', value: 'new'},
    {op: 'replace', path: '/visibility', value: 'shared'},
    {op: 'replace', path: '/protected', value: true},
    {op: 'replace', path: '/min_disk', value: 20},
  ]);
});

test('properties: add new, replace changed, remove cleared or dropped; pointers escaped', () => {
  const ops = buildPatch(image, {...same, properties: {os_distro: 'debian', description: '', os_version: '12'}});
  assert.deepEqual(ops, [
    {op: 'remove', path: '/description'},
    {op: 'remove', path: '/a~1b~0c'},
    {op: 'replace', path: '/os_distro', value: 'debian'},
    {op: 'add', path: '/os_version', value: '12'},
  ]);
});

test('read-only keys are never sent', () => {
  assert.deepEqual(buildPatch(image, {properties: {...customProperties(image), checksum: 'forged', os_glance_x: '1'}}), []);
});

test('tags are replaced as a whole list, trimmed and deduplicated', () => {
  assert.deepEqual(buildPatch(image, {tags: [' a', 'c', 'c', '']}), [{op: 'replace', path: '/tags', value: ['a', 'c']}]);
  assert.deepEqual(buildPatch(image, {tags: ['a', 'b', 'a']}), []);
});

test('a null name stays null when left empty', () => {
  assert.deepEqual(buildPatch({...image, name: null}, {name: ''}), []);
});

test('property rows are checked before sending', () => {
  assert.deepEqual(validateProperties([{key: 'hw_disk_bus', value: 'scsi'}, {key: 'status', value: 'x'},
                                       {key: 'hw_disk_bus', value: 'virtio'}, {key: '', value: ''}]),
                   {1: '"status" is set by the image service and cannot be changed here.', 2: '"hw_disk_bus" appears twice.'});
});

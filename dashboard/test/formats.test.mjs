import assert from 'node:assert/strict';
import {test} from 'node:test';

import {DISK_FORMATS, formatsFor, minDiskShortfall, offeredFormats, suggestedMinDisk} from '../src/lib/formats.js';

const GiB = 1024 ** 3;

test('raw is offered first and marked recommended', () => {
  assert.deepEqual(DISK_FORMATS[0], ['raw', 'Raw (recommended)']);
});

test('container format derived as Horizon does (VHD: bare, not ovf)', () => {
  assert.deepEqual(formatsFor('raw'), {disk_format: 'raw', container_format: 'bare'});
  assert.deepEqual(formatsFor('qcow2'), {disk_format: 'qcow2', container_format: 'bare'});
  assert.deepEqual(formatsFor('ami'), {disk_format: 'ami', container_format: 'ami'});
  assert.deepEqual(formatsFor('vhd'), {disk_format: 'vhd', container_format: 'bare'});
  assert.deepEqual(formatsFor('docker'), {disk_format: 'raw', container_format: 'docker'});
  assert.deepEqual(formatsFor('ova'), {disk_format: 'vmdk', container_format: 'ova'});
});

test('offered formats follow the server schema', () => {
  assert.equal(offeredFormats(null), DISK_FORMATS);
  assert.deepEqual(offeredFormats([null, 'raw', 'qcow2']).map(([f]) => f), ['raw', 'qcow2', 'docker']);
  assert.deepEqual(offeredFormats(['vmdk']).map(([f]) => f), ['vmdk', 'ova']);
});

test('min disk from the virtual size for formats whose header has it, else the file size', () => {
  const qcow = {format: 'qcow2', virtualSize: 5 * GiB};
  assert.deepEqual(suggestedMinDisk(qcow, 200 * 1024 ** 2), {gib: 5, source: 'the virtual size in the QCOW2 header'});
  assert.equal(suggestedMinDisk({format: 'vmdk', virtualSize: 10 * GiB + 1}, 1).gib, 11);
  assert.equal(suggestedMinDisk({format: 'vhdx', virtualSize: null}, 3 * GiB).gib, 3);
  assert.equal(suggestedMinDisk({format: 'raw', virtualSize: 2.5 * GiB}, 2.5 * GiB).source, 'the file size');
  assert.equal(suggestedMinDisk({format: 'iso', virtualSize: 700 * 1024 ** 2}, 700 * 1024 ** 2).gib, 1);
  assert.equal(suggestedMinDisk(null, 300 * 1024 ** 2).gib, 1);
});

test('after upload: warn when virtual_size exceeds min_disk', () => {
  assert.equal(minDiskShortfall({virtual_size: 5 * GiB, min_disk: 5}), null);
  assert.deepEqual(minDiskShortfall({virtual_size: 5 * GiB + 1, min_disk: 5}), {needed: 6});
  assert.deepEqual(minDiskShortfall({virtual_size: 20 * GiB, min_disk: 0}), {needed: 20});
  assert.equal(minDiskShortfall({virtual_size: null, min_disk: 0}), null);
  assert.equal(minDiskShortfall(null), null);
});

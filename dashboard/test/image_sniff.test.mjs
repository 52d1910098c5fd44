// image_sniff against real images made by qemu-img (Debian's qemu-utils): the detected format and
// the virtual size must equal what `qemu-img info -f FORMAT` reports, as the server's parsers
// do (without -f, qemu probes a fixed VHD as raw).
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdtempSync, openSync, readSync, fstatSync, closeSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, test} from 'node:test';
import {gzipSync} from 'node:zlib';

import {containerFormatFor, formatMismatch, minDiskGiB, sniffImage} from '../src/lib/image_sniff.js';

const dir = mkdtempSync(join(tmpdir(), 'sniff-'));
after(() => rmSync(dir, {recursive: true, force: true}));

function sniffFile(path) {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  const read = async (offset, length) => {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, offset);
    return new Uint8Array(buf.buffer, buf.byteOffset, n);
  };
  return sniffImage(read, size).finally(() => closeSync(fd));
}

function qemuImg(format, name, size, options = []) {
  const path = join(dir, name);
  execFileSync('qemu-img', ['create', '-q', '-f', format, ...options, path, String(size)]);
  const info = JSON.parse(execFileSync('qemu-img', ['info', '-f', format, '--output=json', path]).toString());
  return {path, virtualSize: info['virtual-size']};
}

const GiB = 1024 ** 3;
const cases = [
  // [qemu format, options, size, expected Glance format, subformat]
  ['qcow2', [], 20 * GiB + 512 * 1024, 'qcow2', 'v3'],
  ['qcow2', ['-o', 'compat=0.10'], 3 * GiB, 'qcow2', 'v2'],
  ['vmdk', [], 10 * GiB, 'vmdk', null],
  ['vmdk', ['-o', 'subformat=streamOptimized'], 5 * GiB + 1024 * 1024, 'vmdk', null],
  ['vpc', [], 64 * 1024 * 1024, 'vhd', 'dynamic'],
  ['vpc', ['-o', 'subformat=fixed'], 8 * 1024 * 1024, 'vhd', 'fixed'],
  ['vpc', ['-o', 'force_size=on'], 2 * GiB, 'vhd', 'dynamic'],
  ['vhdx', [], 40 * GiB, 'vhdx', null],
  ['vdi', [], 7 * GiB + 4096, 'vdi', null],
  ['vdi', ['-o', 'static=on'], 16 * 1024 * 1024, 'vdi', null],
  ['raw', [], 3 * 1024 * 1024, 'raw', null],
];

describe('qemu-img images', () => {
  for (const [qformat, options, size, format, subformat] of cases) {
    test(`${qformat} ${options.join(' ')} ${size}`, async () => {
      const img = qemuImg(qformat, `${qformat}-${size}-${options.length}.img`, size, options);
      const got = await sniffFile(img.path);
      assert.equal(got.format, format);
      assert.equal(got.virtualSize, img.virtualSize);
      if (subformat) assert.equal(got.subformat, subformat);
      assert.equal(formatMismatch(format, got), null);
    });
  }
});

describe('other inputs', () => {
  test('a qcow2 chosen as raw is flagged', async () => {
    const img = qemuImg('qcow2', 'flag.qcow2', GiB);
    const got = await sniffFile(img.path);
    assert.match(formatMismatch('raw', got), /looks like QCOW2, not RAW/);
  });

  test('a raw disk with an MBR is raw, sized by the file', async () => {
    const bytes = new Uint8Array(4096);
    bytes[510] = 0x55;
    bytes[511] = 0xaa;
    const path = join(dir, 'mbr.img');
    writeFileSync(path, bytes);
    const got = await sniffFile(path);
    assert.deepEqual([got.format, got.subformat, got.virtualSize], ['raw', 'mbr', 4096]);
  });

  test('a gzip file has no format and says so', async () => {
    const path = join(dir, 'disk.img.gz');
    writeFileSync(path, gzipSync(Buffer.alloc(1 << 20)));
    const got = await sniffFile(path);
    assert.equal(got.format, null);
    assert.equal(got.compression, 'gzip');
    assert.match(formatMismatch('raw', got), /gzip-compressed/);
  });

  test('an ISO 9660 primary volume descriptor gives blocks x block size', async () => {
    const bytes = new Uint8Array(40 * 1024);
    const pvd = 32 * 1024;
    bytes[pvd] = 1;
    bytes.set(Buffer.from('CD001'), pvd + 1);
    new DataView(bytes.buffer).setUint32(pvd + 80, 20, true);
    new DataView(bytes.buffer).setUint16(pvd + 128, 2048, true);
    const path = join(dir, 'x.iso');
    writeFileSync(path, bytes);
    const got = await sniffFile(path);
    assert.deepEqual([got.format, got.virtualSize], ['iso', 40960]);
    assert.equal(formatMismatch('raw', got), null);
  });

  test('truncated and hostile headers give null sizes, not exceptions', async () => {
    const img = qemuImg('vhdx', 'cut.vhdx', GiB);
    const whole = execFileSync('head', ['-c', String(200 * 1024), img.path]);
    const path = join(dir, 'cut2.vhdx');
    writeFileSync(path, whole);
    const got = await sniffFile(path);
    assert.deepEqual([got.format, got.virtualSize], ['vhdx', null]);

    const qcow = new Uint8Array(512);
    qcow.set(Buffer.from('QFI\xfb', 'latin1'));
    qcow.fill(0xff, 24, 32);
    const hostile = join(dir, 'huge.qcow2');
    writeFileSync(hostile, qcow);
    assert.equal((await sniffFile(hostile)).virtualSize, null);
  });

  test('empty file', async () => {
    const path = join(dir, 'empty');
    writeFileSync(path, '');
    assert.deepEqual(await sniffFile(path),
                     {format: 'raw', virtualSize: 0, subformat: null, compression: null, note: null});
  });
});

test('min disk rounds the virtual size up to GiB, else the file size', () => {
  assert.equal(minDiskGiB(20 * GiB + 1, 300), 21);
  assert.equal(minDiskGiB(null, 300 * 1024 * 1024), 1);
  assert.equal(minDiskGiB(0, 0), 0);
});

test('container format as Horizon derives it, but bare for VHD so that the server inspects it', () => {
  assert.deepEqual(['aki', 'vhd', 'ova', 'qcow2'].map(containerFormatFor),
                   ['aki', 'bare', 'ova', 'bare']);
});

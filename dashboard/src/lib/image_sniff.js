// Disk-image format detection and virtual size, from a file's headers, in the browser.
//
// Used by the Create Image dialog before anything is uploaded: the detected format is compared
// with the chosen one, and "Minimum disk" is pre-filled from the virtual size. The server stays
// authoritative (it inspects the stream and sets virtual_size); this module mirrors its rules
// (docs/formats.md, "Formats" and "Decisions") so that both normally agree. It reads only
// headers: a few KiB at fixed offsets, the last 512 bytes, and for VHDX its region and metadata
// tables. Every offset taken from the file is bounds-checked; a damaged header gives
// virtualSize = null, never an exception.
//
// A reader is `async (offset, length) => Uint8Array` returning fewer bytes at end of file.
// fileReader() makes one from a browser File/Blob; the Node tests make one from fs.

const KIB = 1024;
const HEAD_BYTES = 64 * KIB;  // as the server: ISO volume descriptors reach 64 KiB
const TAIL_BYTES = 512;
const SECTOR = 512;

// GUIDs as stored on disk (first three fields little-endian), VHDX spec 2.6.
const VHDX_METADATA_REGION = guidBytes('8B7CA206-4790-4B9A-B8FE-575F050F886E');
const VHDX_VIRTUAL_DISK_SIZE = guidBytes('2FA54224-CD1B-4876-B211-5DBED83BF4B8');
const VHDX_REGION_TABLE_OFFSET = 192 * KIB;
const VHDX_MAX_ENTRIES = 2047;

/** A reader over a browser File or Blob. */
export function fileReader(blob) {
  return async (offset, length) =>
    new Uint8Array(await blob.slice(offset, Math.min(blob.size, offset + length)).arrayBuffer());
}

/**
 * Detects the format of an image of `size` bytes.
 * Returns {format, virtualSize, subformat, compression, note}:
 *  - format: a Glance disk_format ("raw" when nothing matched; "gpt"/"mbr" disks are "raw"),
 *    or null for a compressed file (then `compression` names the compressor);
 *  - virtualSize: bytes, or null when the header does not tell it (or is damaged);
 *  - note: a sentence for the user when something needs their attention.
 */
export async function sniffImage(read, size) {
  const head = await read(0, Math.min(size, HEAD_BYTES));
  const tail = size >= TAIL_BYTES ? await read(size - TAIL_BYTES, TAIL_BYTES) : new Uint8Array();
  const result = {format: 'raw', virtualSize: size, subformat: null, compression: null, note: null};

  if (ascii(head, 0, 4) === 'QFI\xfb') {
    return {...result, format: 'qcow2', virtualSize: u64(head, 24, false),
            subformat: `v${u32(head, 4, false)}`};
  }
  if (ascii(head, 0, 4) === 'QED\0') {
    return {...result, format: 'qed', virtualSize: null,
            note: 'QED images are not accepted by the image service.'};
  }
  if (ascii(head, 0, 4) === 'KDMV') {
    const sectors = u64(head, 12, true);
    return {...result, format: 'vmdk', virtualSize: sectors === null ? null : mul(sectors, SECTOR)};
  }
  if (ascii(head, 0, 21) === '# Disk DescriptorFile') {
    return {...result, format: 'vmdk', virtualSize: null, subformat: 'descriptor',
            note: 'This is a VMDK descriptor without its data; upload the disk file itself.'};
  }
  if (ascii(head, 0, 8) === 'vhdxfile') {
    return {...result, format: 'vhdx', virtualSize: await vhdxVirtualSize(read, size)};
  }
  if (head.length >= 0x48 && u32(head, 0x40, true) === 0xbeda107f) {
    return {...result, format: 'vdi', virtualSize: u64(head, 0x170, true)};
  }
  if (ascii(head, 0, 8) === 'conectix') {
    return {...result, format: 'vhd', subformat: 'dynamic', virtualSize: vhdVirtualSize(head)};
  }
  if (ascii(tail, 0, 8) === 'conectix') {
    return {...result, format: 'vhd', subformat: 'fixed', virtualSize: vhdVirtualSize(tail)};
  }
  if (ascii(head, 0, 6) === 'LUKS\xba\xbe') {
    return {...result, format: 'luks', virtualSize: null,
            note: 'An encrypted LUKS volume: the image service cannot inspect it.'};
  }
  const compression = compressionOf(head);
  if (compression) {
    return {...result, format: null, virtualSize: null, compression,
            note: `The file is ${compression}-compressed. Decompress it first, or use Image ` +
                  'Location with decompression enabled on the server.'};
  }
  const iso = isoVirtualSize(head);
  if (iso !== undefined) return {...result, format: 'iso', virtualSize: iso};
  if (ascii(head, 257, 5) === 'ustar') return {...result, format: 'ova', virtualSize: null};
  if (head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa) {
    const gpt = ascii(head, 512, 8) === 'EFI PART';
    return {...result, subformat: gpt ? 'gpt' : 'mbr'};
  }
  return result;
}

/** Formats that the user may choose for a detected one without being warned. */
const COMPATIBLE = {iso: ['iso', 'raw'], raw: ['raw', 'ami', 'aki', 'ari'], ova: ['ova', 'vmdk']};

/** A sentence when `chosen` disagrees with what sniffImage() found, else null. */
export function formatMismatch(chosen, detected) {
  if (!detected || detected.format === null) return detected?.note ?? null;
  const ok = COMPATIBLE[detected.format] ?? [detected.format];
  if (ok.includes(chosen)) return null;
  return `The file looks like ${detected.format.toUpperCase()}, not ${chosen.toUpperCase()}. ` +
         `Choose ${detected.format.toUpperCase()}, or convert the file; the image service ` +
         'refuses data whose format does not match.';
}

/** Minimum disk in GiB for an image: its virtual size rounded up, else its file size. */
export function minDiskGiB(virtualSize, fileSize) {
  const bytes = virtualSize ?? fileSize;
  return Math.ceil(bytes / (KIB * KIB * KIB));
}

/**
 * Container format for a disk format, as Horizon derives it except for VHD: Horizon sends `ovf`,
 * but a VHD file is a bare disk, and the server inspects the data (format check, virtual size
 * for the min-disk check) only for container format `bare`.
 */
export function containerFormatFor(diskFormat) {
  if (['ami', 'aki', 'ari'].includes(diskFormat)) return diskFormat;
  if (diskFormat === 'ova') return 'ova';
  return 'bare';
}

// VHD footer (512 bytes): qemu-img's rule, as the server (docs/formats.md "VHD virtual size").
function vhdVirtualSize(footer) {
  if (footer.length < 512) return null;
  const current = u64(footer, 48, false);
  const cyls = (footer[56] << 8) | footer[57];
  const chs = cyls * footer[58] * footer[59];
  const creator = ascii(footer, 28, 4);
  const bySize = ['win ', 'qem2', 'd2v ', 'CTXS'].includes(creator) || chs === 65535 * 16 * 255;
  return bySize ? current : chs * SECTOR;
}

// VHDX: region table -> metadata region -> Virtual Disk Size item (VHDX spec 2.2.2, 2.6).
async function vhdxVirtualSize(read, size) {
  if (size < VHDX_REGION_TABLE_OFFSET + 64 * KIB) return null;
  const regions = await read(VHDX_REGION_TABLE_OFFSET, 64 * KIB);
  if (ascii(regions, 0, 4) !== 'regi') return null;
  const count = u32(regions, 8, true);
  if (count > VHDX_MAX_ENTRIES) return null;
  for (let i = 0; i < count; i++) {
    const e = 16 + i * 32;
    if (!equalBytes(regions, e, VHDX_METADATA_REGION)) continue;
    const offset = u64(regions, e + 16, true);
    const length = u32(regions, e + 24, true);
    if (offset === null || offset + length > size || length < 64 * KIB) return null;
    const table = await read(offset, 64 * KIB);
    if (ascii(table, 0, 8) !== 'metadata') return null;
    const items = table[10] | (table[11] << 8);
    if (items > VHDX_MAX_ENTRIES) return null;
    for (let j = 0; j < items; j++) {
      const m = 32 + j * 32;
      if (!equalBytes(table, m, VHDX_VIRTUAL_DISK_SIZE)) continue;
      const at = u32(table, m + 16, true);
      if (at + 8 > length) return null;
      return u64(await read(offset + at, 8), 0, true);
    }
    return null;
  }
  return null;
}

// ISO 9660 / UDF: a volume descriptor at 32 KiB + 1 + n * 2 KiB. Returns undefined if not ISO,
// else the primary volume descriptor's blocks x block size (null without one).
function isoVirtualSize(head) {
  let found = false;
  for (let at = 32 * KIB; at + 2 * KIB <= head.length; at += 2 * KIB) {
    const id = ascii(head, at + 1, 5);
    if (!['CD001', 'NSR02', 'NSR03', 'BEA01'].includes(id)) continue;
    found = true;
    if (id === 'CD001' && head[at] === 1) {
      return u32(head, at + 80, true) * ((head[at + 128]) | (head[at + 129] << 8));
    }
  }
  return found ? null : undefined;
}

function compressionOf(b) {
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (ascii(b, 0, 6) === '\xfd7zXZ\0') return 'xz';
  if (u32(b, 0, true) === 0xfd2fb528) return 'zstd';
  if (ascii(b, 0, 4) === 'PK\x03\x04') return 'zip';
  if (ascii(b, 0, 3) === 'BZh') return 'bzip2';
  return null;
}

// ---------------------------------------------------------------------------------- bytes
function ascii(b, at, n) {
  if (at + n > b.length) return '';
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(b[at + i]);
  return s;
}

function u32(b, at, little) {
  if (at + 4 > b.length) return null;
  return new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0, little);
}

// A u64 as a Number; null when out of bounds or above 2^53 (no real disk is that large).
function u64(b, at, little) {
  if (at + 8 > b.length) return null;
  const v = new DataView(b.buffer, b.byteOffset + at, 8).getBigUint64(0, little);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(v);
}

function mul(a, b) {
  const v = a * b;
  return Number.isSafeInteger(v) ? v : null;
}

function equalBytes(b, at, expected) {
  if (at + expected.length > b.length) return false;
  return expected.every((x, i) => b[at + i] === x);
}

function guidBytes(text) {
  const hex = text.replaceAll('-', '');
  const bytes = [];
  for (let i = 0; i < 32; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
  const swap = (from, n) => bytes.slice(from, from + n).reverse();
  return [...swap(0, 4), ...swap(4, 2), ...swap(6, 2), ...bytes.slice(8)];
}

// Disk formats offered by the Create Image dialog, and the values derived from a choice and a
// file: container format, minimum disk, and the check of the server's virtual size after upload.
import {containerFormatFor, minDiskGiB} from './image_sniff.js';

export const GiB = 1024 ** 3;

/** Glance's default disk formats, raw first: it is the one the provider's guide recommends. */
export const DISK_FORMATS = [
  ['raw', 'Raw (recommended)'], ['qcow2', 'QCOW2 (QEMU)'], ['iso', 'ISO (optical disc)'],
  ['vmdk', 'VMDK (VMware)'], ['vhd', 'VHD (Hyper-V)'], ['vhdx', 'VHDX (Hyper-V)'],
  ['vdi', 'VDI (VirtualBox)'], ['ploop', 'PLOOP (Virtuozzo)'], ['ova', 'OVA (archive)'],
  ['docker', 'Docker'], ['ami', 'AMI (Amazon machine)'], ['aki', 'AKI (Amazon kernel)'],
  ['ari', 'ARI (Amazon ramdisk)'],
];
export const RAW_REASON = 'Raw is recommended: on Ceph, instances and snapshots of raw images ' +
    'are copy-on-write clones that start at once; other formats are converted to a full copy first.';

/** Formats whose header states the virtual size (anything else: the file size is the disk). */
export const VIRTUAL_SIZE_FORMATS = new Set(['qcow2', 'vmdk', 'vhd', 'vhdx', 'vdi']);

/**
 * The format choices the server accepts: the schema's disk_format enum when it has one (plus
 * docker and ova, which map onto raw and vmdk), else the defaults.
 */
export function offeredFormats(schemaEnum) {
  if (!Array.isArray(schemaEnum) || schemaEnum.length === 0) return DISK_FORMATS;
  const allowed = new Set(schemaEnum.filter(Boolean));
  return DISK_FORMATS.filter(([f]) => allowed.has(f) || (f === 'docker' && allowed.has('raw')) ||
                                      (f === 'ova' && allowed.has('vmdk')));
}

/** {disk_format, container_format} for a choice, as Horizon derives them. */
export function formatsFor(choice) {
  if (choice === 'docker') return {disk_format: 'raw', container_format: 'docker'};
  if (choice === 'ova') return {disk_format: 'vmdk', container_format: 'ova'};
  return {disk_format: choice, container_format: containerFormatFor(choice)};
}

/**
 * Minimum disk (GiB) to pre-fill for a file, and where the number comes from.
 * `detected` is sniffImage()'s answer (or null before it is known).
 */
export function suggestedMinDisk(detected, fileSize) {
  if (detected && VIRTUAL_SIZE_FORMATS.has(detected.format) && detected.virtualSize !== null) {
    return {gib: minDiskGiB(detected.virtualSize, fileSize),
            source: `the virtual size in the ${detected.format.toUpperCase()} header`};
  }
  return {gib: minDiskGiB(null, fileSize), source: 'the file size'};
}

/**
 * After upload: null when min_disk covers the server's virtual_size, else {needed} (GiB) for the
 * warning's one-click fix.
 */
export function minDiskShortfall(image) {
  if (!image || image.virtual_size === null || image.virtual_size === undefined) return null;
  const needed = Math.ceil(image.virtual_size / GiB);
  return needed > (image.min_disk ?? 0) ? {needed} : null;
}

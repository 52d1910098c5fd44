// GET /v2/info/usage as display rows. Sizes come in MiB, counts as numbers; a limit of -1 means
// unlimited, and {usage: {}} means the cloud sets no quotas.
import {humanSize} from './units.js';

const QUOTAS = [
  ['image_size_total', 'Stored image data', 'size'],
  ['image_stage_total', 'Staged image data', 'size'],
  ['image_count_total', 'Images', 'count'],
  ['image_count_uploading', 'Images being uploaded or imported', 'count'],
];
const MiB = 1024 ** 2;

/** [{key, label, used, limit (null = unlimited), text}] in a fixed order. */
export function usageRows(doc) {
  const usage = doc?.usage ?? {};
  const rows = [];
  for (const [key, label, kind] of QUOTAS) {
    const q = usage[key];
    if (!q) continue;
    const fmt = (n) => (kind === 'size' ? humanSize(n * MiB) : String(n));
    const unlimited = q.limit === null || q.limit === undefined || q.limit < 0;
    rows.push({
      key, label, used: q.usage, limit: unlimited ? null : q.limit,
      text: unlimited ? `${fmt(q.usage)} used, unlimited` : `${fmt(q.usage)} of ${fmt(q.limit)}`,
      full: !unlimited && q.usage >= q.limit,
    });
  }
  return rows;
}

import assert from 'node:assert/strict';
import {test} from 'node:test';

import {usageRows} from '../src/lib/usage.js';

test('usage rows: MiB sizes in human units, -1 unlimited, full flagged', () => {
  const rows = usageRows({usage: {
    image_size_total: {limit: 10240, usage: 3277},
    image_stage_total: {limit: -1, usage: 0},
    image_count_total: {limit: 5, usage: 5},
    image_count_uploading: {limit: -1, usage: 1},
  }});
  assert.deepEqual(rows.map((r) => r.text), ['3.20 GiB of 10.0 GiB', '0 B used, unlimited', '5 of 5', '1 used, unlimited']);
  assert.deepEqual(rows.map((r) => r.limit), [10240, null, 5, null]);
  assert.deepEqual(rows.map((r) => r.full), [false, false, true, false]);
});

test('no quotas configured', () => {
  assert.deepEqual(usageRows({usage: {}}), []);
  assert.deepEqual(usageRows(null), []);
});

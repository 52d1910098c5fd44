import assert from 'node:assert/strict';
import {test} from 'node:test';

import {humanDuration, humanSize} from '../src/lib/units.js';

test('sizes in binary units', () => {
  assert.deepEqual([0, 1023, 1536, 300 * 1024 ** 2, 20 * 1024 ** 3, null].map(humanSize),
                   ['0 B', '1023 B', '1.50 KiB', '300 MiB', '20.0 GiB', '']);
});

test('durations', () => {
  assert.deepEqual([12, 185, 3725, -1, Infinity].map(humanDuration),
                   ['12 s', '3 min 05 s', '1 h 02 min', '', '']);
});

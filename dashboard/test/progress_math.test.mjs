import assert from 'node:assert/strict';
import {test} from 'node:test';

import {SpeedMeter, percentOf, progressText} from '../src/lib/progress_math.js';

const MiB = 1024 ** 2;

test('steady rate: speed converges to it and time left follows', () => {
  const m = new SpeedMeter();
  assert.equal(m.update(0, 0), null);
  assert.equal(m.secondsLeft(100 * MiB), null);
  for (let t = 250; t <= 10_000; t += 250) m.update((t / 1000) * 10 * MiB, t);
  assert.ok(Math.abs(m.speed - 10 * MiB) < 1, `speed ${m.speed}`);
  assert.ok(Math.abs(m.secondsLeft(200 * MiB) - 10) < 0.01);
});

test('one burst does not swing the estimate', () => {
  const m = new SpeedMeter();
  let loaded = 0;
  for (let t = 0; t <= 6000; t += 200) { m.update(loaded, t); loaded += 2 * MiB; }  // 10 MiB/s
  const before = m.speed;
  m.update(loaded + 50 * MiB, 6400);  // a burst of 250 MiB/s for 200 ms
  assert.ok(m.speed < before * 2.5, `speed jumped to ${m.speed / MiB} MiB/s`);
});

test('a stall lowers the speed smoothly, and time never goes backwards in the math', () => {
  const m = new SpeedMeter();
  m.update(0, 0);
  m.update(10 * MiB, 1000);
  assert.equal(m.update(10 * MiB, 1000), 10 * MiB);  // same timestamp: unchanged
  m.update(10 * MiB, 4000);  // 3 s without progress
  assert.ok(m.speed > 0 && m.speed < 10 * MiB * 0.5);
});

test('percent and the text read by screen readers', () => {
  assert.equal(percentOf(0, 0), 0);
  assert.equal(percentOf(1, 3), 33);
  assert.equal(percentOf(5, 3), 100);
  assert.equal(progressText({percent: 42, loaded: '1.20 GiB', total: '2.90 GiB', speed: '85.0 MiB', left: '20 s'}),
               '42 %, 1.20 GiB of 2.90 GiB, 85.0 MiB/s, 20 s left');
  assert.equal(progressText({percent: 0, loaded: '0 B', total: '1 GiB', speed: '', left: ''}), '0 %, 0 B of 1 GiB');
});

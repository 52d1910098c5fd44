// Upload speed and time left: an exponential moving average of the byte rate with a 3 s time
// constant (docs/design/dashboard.md §3.5), so one slow or fast progress event does not swing
// the estimate. Pure; time is passed in (ms).

export class SpeedMeter {
  constructor(windowMs = 3000) {
    this.windowMs = windowMs;
    this.last = null;  // {t, loaded}
    this.speed = null;  // bytes per second
  }

  /** Records `loaded` bytes at time `t` (ms) and returns the smoothed speed in bytes/s. */
  update(loaded, t) {
    if (this.last === null) {
      this.last = {t, loaded};
      return this.speed;
    }
    const dt = t - this.last.t;
    if (dt <= 0) return this.speed;
    const rate = Math.max(0, loaded - this.last.loaded) * 1000 / dt;
    const alpha = 1 - Math.exp(-dt / this.windowMs);
    this.speed = this.speed === null ? rate : this.speed + alpha * (rate - this.speed);
    this.last = {t, loaded};
    return this.speed;
  }

  /** Seconds left for `total` bytes, or null while the speed is unknown or zero. */
  secondsLeft(total) {
    if (!this.speed || !this.last) return null;
    return Math.max(0, total - this.last.loaded) / this.speed;
  }
}

/** "42 %, 1.20 GiB of 2.90 GiB, 85.0 MiB/s, 20 s left" from the parts (already formatted). */
export function progressText({percent, loaded, total, speed, left}) {
  const parts = [`${percent} %`, `${loaded} of ${total}`];
  if (speed) parts.push(`${speed}/s`);
  if (left) parts.push(`${left} left`);
  return parts.join(', ');
}

export function percentOf(loaded, total) {
  if (!total) return 0;
  return Math.min(100, Math.floor(loaded * 100 / total));
}

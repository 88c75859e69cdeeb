// Time is injected: nodes read it and schedule with it, so the same node runs on the robot
// (system time), in the simulator (sim time), in replay and in tests (manual time).

export interface Cancel {
  (): void;
}

export interface Clock {
  /** Milliseconds since the epoch (or since the simulation started), fractional. */
  now(): number;
  /** Calls fn every periodMs of this clock's time until cancelled. */
  every(periodMs: number, fn: () => void): Cancel;
  /** Calls fn once after delayMs of this clock's time. */
  after(delayMs: number, fn: () => void): Cancel;
}

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  every: (periodMs, fn) => {
    const id = setInterval(fn, periodMs);
    return () => clearInterval(id);
  },
  after: (delayMs, fn) => {
    const id = setTimeout(fn, delayMs);
    return () => clearTimeout(id);
  },
};

interface Pending {
  at: number;
  period: number;
  fn: () => void;
  cancelled: boolean;
  seq: number;
}

/** A clock that moves only when told: tests and the simulator drive it. */
export class ManualClock implements Clock {
  #now: number;
  #pending: Pending[] = [];
  #seq = 0;

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  every(periodMs: number, fn: () => void): Cancel {
    if (!(periodMs > 0)) throw new RangeError(`timer period must be positive, got ${periodMs}`);
    return this.#add(this.#now + periodMs, periodMs, fn);
  }

  after(delayMs: number, fn: () => void): Cancel {
    return this.#add(this.#now + Math.max(0, delayMs), 0, fn);
  }

  #add(at: number, period: number, fn: () => void): Cancel {
    const p: Pending = { at, period, fn, cancelled: false, seq: this.#seq++ };
    this.#pending.push(p);
    return () => {
      p.cancelled = true;
    };
  }

  /** Moves time forward, firing due timers in time order (ties in creation order). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      this.#pending = this.#pending.filter((p) => !p.cancelled);
      let next: Pending | undefined;
      for (const p of this.#pending) {
        if (
          p.at <= target &&
          (next === undefined || p.at < next.at || (p.at === next.at && p.seq < next.seq))
        )
          next = p;
      }
      if (next === undefined) break;
      this.#now = Math.max(this.#now, next.at);
      if (next.period > 0) {
        next.at += next.period;
        next.seq = this.#seq++;
      } else next.cancelled = true;
      next.fn();
    }
    this.#now = target;
  }

  /** Jumps the clock without firing timers in between (a clock step, e.g. NTP or sim reset). */
  jump(ms: number): void {
    this.#now += ms;
    for (const p of this.#pending) if (ms < 0) p.at += ms;
  }
}

// Time is injected: nodes read it and schedule with it, so the same node runs on the robot
// (system time), in the simulator (sim time), in replay and in tests (manual time).

export interface Cancel {
  (): void;
}

/**
 * A discontinuity in a clock, as rclcpp's jump callbacks report them: `started` when ROS time
 * begins (the first /clock message; time was 0 before), `backward` when time moves back (a
 * simulator reset, a bag looping), `forward` for a step ahead that is not the passing of time.
 */
export interface TimeJump {
  readonly kind: 'started' | 'backward' | 'forward';
  readonly fromMs: number;
  readonly toMs: number;
}

export interface Clock {
  /** Milliseconds since the epoch (or since the simulation started), fractional. */
  now(): number;
  /**
   * False while the clock follows /clock and no message has come yet: ROS time is 0 then, and
   * nothing measured in it means anything.
   */
  readonly started: boolean;
  /** Calls fn after each jump of this clock (never for time passing normally). */
  onJump(fn: (jump: TimeJump) => void): Cancel;
  /** Calls fn every periodMs of this clock's time until cancelled. */
  every(periodMs: number, fn: () => void): Cancel;
  /** Calls fn once after delayMs of this clock's time. */
  after(delayMs: number, fn: () => void): Cancel;
}

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  started: true,
  // performance.now() is monotonic: this clock never steps, so there is no jump to report.
  onJump: () => () => {},
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
  readonly started = true;
  #now: number;
  #pending: Pending[] = [];
  #seq = 0;
  readonly #jumpListeners = new Set<(jump: TimeJump) => void>();

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

  onJump(fn: (jump: TimeJump) => void): Cancel {
    this.#jumpListeners.add(fn);
    return () => this.#jumpListeners.delete(fn);
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

  /**
   * Steps the clock without firing timers in between (NTP, a simulator reset) and reports the
   * jump. Pending timers keep the delay they had left, as rcl reschedules timers on a jump: a
   * step back must not silence them for its length, a step ahead must not fire them for every
   * period it skipped.
   */
  jump(ms: number, kind: TimeJump['kind'] = ms < 0 ? 'backward' : 'forward'): void {
    const fromMs = this.#now;
    this.#now += ms;
    for (const p of this.#pending) p.at += ms;
    const jump: TimeJump = { kind, fromMs, toMs: this.#now };
    for (const fn of [...this.#jumpListeners]) fn(jump);
  }
}

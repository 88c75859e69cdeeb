// ROS time for nodes started with `use_sim_time: true`: the node clock follows /clock
// (rosgraph_msgs/Clock) as rclcpp's and rclpy's TimeSource keep it. Time is 0 until the first
// message; a message earlier than the current time is a backward jump, reported to jump
// listeners; when /clock stops, time stops and timers on this clock stop firing (the simulator
// is paused). Pure: the transport feeds it the times it receives.
import { z } from 'zod';
import { ManualClock, type Cancel, type Clock, type TimeJump } from './clock.ts';
import { timeToMs, type Time } from './messages.ts';

export const CLOCK_TOPIC = '/clock';

export class ClockMessageError extends Error {
  override readonly name = 'ClockMessageError';
  constructor(
    message: string,
    readonly received: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

// builtin_interfaces/Time as /clock must carry it: a time before the epoch is not a sim time.
const clockStamp = z.object({
  sec: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  nanosec: z
    .number()
    .int()
    .min(0)
    .max(1e9 - 1),
});

/** The time (ms) one rosgraph_msgs/Clock message carries; throws ClockMessageError if it is not a valid time. */
export function clockMessageMs(message: unknown): number {
  const parsed = z.object({ clock: clockStamp }).safeParse(message);
  if (!parsed.success) {
    throw new ClockMessageError(
      `/clock message ${JSON.stringify(message)} is not a valid time: ${parsed.error.issues
        .map((i) => `${i.path.join('.')} ${i.message}`)
        .join('; ')}`,
      message,
      { cause: parsed.error },
    );
  }
  return timeToMs(parsed.data.clock as Time);
}

export class SimTimeClock implements Clock {
  // Timers are ManualClock's, moved only by /clock: one timer queue in the runtime, not two.
  readonly #inner = new ManualClock(0);
  #started = false;

  get started(): boolean {
    return this.#started;
  }

  now(): number {
    return this.#inner.now();
  }

  every(periodMs: number, fn: () => void): Cancel {
    return this.#inner.every(periodMs, fn);
  }

  after(delayMs: number, fn: () => void): Cancel {
    return this.#inner.after(delayMs, fn);
  }

  onJump(fn: (jump: TimeJump) => void): Cancel {
    return this.#inner.onJump(fn);
  }

  /**
   * Applies the time of one /clock message. Time moving forward fires due timers in order; the
   * first non-zero time starts the clock (timers created before keep their delays from then);
   * an earlier time is a backward jump. Zero is "unset" in ROS: it never starts the clock, and a
   * jump back to zero un-starts it.
   */
  set(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`sim time must be a finite ms >= 0, got ${ms}`);
    const now = this.#inner.now();
    if (ms === now) return;
    if (!this.#started) {
      if (ms === 0) return;
      this.#started = true;
      this.#inner.jump(ms - now, 'started');
    } else if (ms < now) {
      this.#started = ms > 0;
      this.#inner.jump(ms - now, 'backward');
    } else {
      this.#inner.advance(ms - now);
    }
  }
}

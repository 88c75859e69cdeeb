// ROS time from /clock, exactly: when the clock starts, how timers are rescheduled on jumps,
// what counts as a jump, and a bad /clock message from a peer. The transport-level behaviour is
// in the contract suite (transport-contract.test.ts), run against every transport.
import { describe, expect, it } from 'vitest';
import {
  ClockMessageError,
  clockMessageMs,
  EmbeddedBus,
  ManualClock,
  QOS_CLOCK_PUBLISHER,
  SimTimeClock,
  timeFromMs,
  type TimeJump,
} from '../../nodes/runtime/index.ts';

/** Records when each timer fires, in the clock's own time. */
function record(clock: SimTimeClock | ManualClock): { fired: string[]; jumps: TimeJump[] } {
  const fired: string[] = [];
  const jumps: TimeJump[] = [];
  clock.every(20, () => fired.push(`tick@${clock.now()}`));
  clock.after(30, () => fired.push(`once@${clock.now()}`));
  clock.onJump((j) => jumps.push(j));
  return { fired, jumps };
}

describe('SimTimeClock (use_sim_time)', () => {
  it('is 0 and not started until a non-zero time arrives; timers count their delays from then', () => {
    const clock = new SimTimeClock();
    const { fired, jumps } = record(clock);
    expect([clock.now(), clock.started]).toEqual([0, false]);
    clock.set(0); // zero is "unset" in ROS
    expect(clock.started).toBe(false);
    clock.set(1000);
    expect([clock.now(), clock.started]).toEqual([1000, true]);
    expect(jumps).toEqual([{ kind: 'started', fromMs: 0, toMs: 1000 }]);
    expect(fired).toEqual([]); // starting is not time passing
    clock.set(1045);
    expect(fired).toEqual(['tick@1020', 'once@1030', 'tick@1040']);
  });

  it('reports a backward jump, keeps timers at the delay they had left, and fires nothing for it', () => {
    const clock = new SimTimeClock();
    const { fired, jumps } = record(clock);
    clock.set(1000);
    clock.set(1025); // tick@1020 fired; next tick due in 15 ms, the one-shot in 5 ms
    clock.set(400);
    expect(jumps.at(-1)).toEqual({ kind: 'backward', fromMs: 1025, toMs: 400 });
    expect(clock.started).toBe(true);
    clock.set(420);
    expect(fired).toEqual(['tick@1020', 'once@405', 'tick@415']);
  });

  it('stops when /clock stops: time passes only by messages, forward steps are not jumps', () => {
    const clock = new SimTimeClock();
    const { fired, jumps } = record(clock);
    clock.set(1000);
    clock.set(1000); // a repeated time changes nothing
    clock.set(1100);
    expect(fired).toEqual(['tick@1020', 'once@1030', 'tick@1040', 'tick@1060', 'tick@1080', 'tick@1100']);
    expect(jumps.map((j) => j.kind)).toEqual(['started']);
  });

  it('a jump back to zero un-starts it, as a cleared ROS time is "unset"', () => {
    const clock = new SimTimeClock();
    clock.set(5000);
    clock.set(0);
    expect([clock.now(), clock.started]).toEqual([0, false]);
  });

  it('refuses times that are not sim times', () => {
    const clock = new SimTimeClock();
    expect(() => clock.set(-1)).toThrow(new RangeError('sim time must be a finite ms >= 0, got -1'));
    expect(() => clock.set(Number.NaN)).toThrow(RangeError);
  });
});

describe('/clock messages', () => {
  it('reads rosgraph_msgs/Clock and names what is wrong with a bad one', () => {
    expect(clockMessageMs({ clock: { sec: 12, nanosec: 500_000_000 } })).toBe(12_500);
    const bad = { clock: { sec: 1, nanosec: 1e9 } };
    expect(() => clockMessageMs(bad)).toThrow(
      new ClockMessageError(
        '/clock message {"clock":{"sec":1,"nanosec":1000000000}} is not a valid time: clock.nanosec Too big: expected number to be <=999999999',
        bad,
      ),
    );
  });

  it('timeFromMs never writes a nanosecond field of a full second (a valid /clock from any time)', () => {
    const ms = 1_072_999.9999999; // the closed loop reaches times like this by adding 1000/30
    expect(timeFromMs(ms)).toEqual({ sec: 1073, nanosec: 0 });
    expect(clockMessageMs({ clock: timeFromMs(ms) })).toBe(1_073_000);
    expect(timeFromMs(1_072_500.25)).toEqual({ sec: 1072, nanosec: 500_250_000 });
  });

  it('the embedded bus drops a bad /clock message with its reason and keeps the time it had', async () => {
    const logs: string[] = [];
    const bus = new EmbeddedBus({ log: (l) => logs.push(l) });
    const node = bus.createNode('follower', { useSimTime: true });
    const pub = bus
      .createNode('sim')
      .createPublisher('rosgraph_msgs/msg/Clock', '/clock', QOS_CLOCK_PUBLISHER);
    pub.publish({ clock: timeFromMs(2000) });
    await bus.flush();
    pub.publish({ clock: { sec: -3, nanosec: 0 } });
    await bus.flush();
    expect(node.clock.now()).toBe(2000);
    expect(logs).toEqual([
      '[follower] /clock message {"clock":{"sec":-3,"nanosec":0}} is not a valid time: clock.sec Too small: expected number to be >=0',
    ]);
    await bus.shutdown();
  });
});

describe('ManualClock jumps', () => {
  it('steps without firing what it skips, keeps remaining delays either way, and reports the step', () => {
    const clock = new ManualClock(1000);
    const { fired, jumps } = record(clock);
    clock.advance(25);
    clock.jump(10_000); // a step ahead fires nothing, and not every period it skipped later either
    clock.advance(20);
    expect(fired).toEqual(['tick@1020', 'once@11030', 'tick@11040']);
    clock.jump(-5000);
    expect(jumps).toEqual([
      { kind: 'forward', fromMs: 1025, toMs: 11_025 },
      { kind: 'backward', fromMs: 11_045, toMs: 6045 },
    ]);
  });
});

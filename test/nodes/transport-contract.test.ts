// One pub/sub/QoS/time suite, run against every transport: the embedded bus always, ROS 2
// through rclnodejs when a ROS 2 environment is sourced (reported as skipped otherwise, never
// faked). Sim time: a node with use_sim_time follows /clock as rclcpp's TimeSource does.
import { afterEach, describe, expect, it } from 'vitest';
import {
  EmbeddedBus,
  QOS_CLOCK_PUBLISHER,
  QOS_COMMANDS,
  QOS_LATCHED,
  QOS_SENSOR_DATA,
  Ros2Transport,
  ros2EnvironmentSourced,
  timeFromMs,
  TopicTypeError,
  type NodeHandle,
  type TimeJump,
  type Transport,
  type Twist,
} from '../../nodes/runtime/index.ts';
import { until } from '../helpers/until.ts';

const twist = (x: number): Twist => ({ linear: { x, y: 0, z: 0 }, angular: { x: 0, y: 0, z: x / 2 } });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const transports: [string, boolean, () => Promise<Transport>][] = [
  ['embedded', true, async () => new EmbeddedBus()],
  ['ros2 (rclnodejs)', ros2EnvironmentSourced(), () => Ros2Transport.create()],
];

describe.each(transports)('transport contract: %s', (_name, available, make) => {
  let transport: Transport | undefined;
  afterEach(async () => {
    await transport?.shutdown();
    transport = undefined;
  });

  it.skipIf(!available)('delivers reliable messages in order with ROS field names intact', async () => {
    transport = await make();
    const a = transport.createNode('contract_pub');
    const b = transport.createNode('contract_sub');
    const got: Twist[] = [];
    b.createSubscription('geometry_msgs/msg/Twist', '/contract/cmd', QOS_COMMANDS, (m) => got.push(m));
    const pub = a.createPublisher('geometry_msgs/msg/Twist', '/contract/cmd', QOS_COMMANDS);
    await new Promise((r) => setTimeout(r, transport!.kind === 'ros2' ? 500 : 0)); // DDS discovery
    for (let i = 1; i <= 5; i++) pub.publish(twist(i));
    await until('five messages', () => got.length === 5);
    expect(got.map((t) => t.linear.x)).toEqual([1, 2, 3, 4, 5]);
    expect(got[2]).toEqual(twist(3));
  });

  it.skipIf(!available)(
    'keep-last-1 sensor QoS hands a slow subscriber only the newest message',
    async () => {
      transport = await make();
      const node = transport.createNode('contract_sensor');
      const got: number[] = [];
      node.createSubscription('std_msgs/msg/Float32', '/contract/sensor', QOS_SENSOR_DATA, (m) =>
        got.push(m.data),
      );
      const pub = node.createPublisher('std_msgs/msg/Float32', '/contract/sensor', QOS_SENSOR_DATA);
      await new Promise((r) => setTimeout(r, transport!.kind === 'ros2' ? 500 : 0));
      for (let i = 0; i < 10; i++) pub.publish({ data: i }); // all before the subscriber runs
      await until('the message 9', () => got.includes(9));
      expect(got.at(-1)).toBe(9);
      expect(got.length).toBeLessThan(10);
    },
  );

  it.skipIf(!available)('transient-local (latched) state reaches a late subscriber', async () => {
    transport = await make();
    const node = transport.createNode('contract_latched');
    const pub = node.createPublisher('std_msgs/msg/Bool', '/contract/enable', QOS_LATCHED);
    pub.publish({ data: true });
    const got: boolean[] = [];
    node.createSubscription('std_msgs/msg/Bool', '/contract/enable', QOS_LATCHED, (m) => got.push(m.data));
    await until('one message', () => got.length === 1);
    expect(got).toEqual([true]);
  });

  it.skipIf(!available)('a closed subscription receives nothing more', async () => {
    transport = await make();
    const node = transport.createNode('contract_close');
    const got: number[] = [];
    const sub = node.createSubscription('std_msgs/msg/Float32', '/contract/close', QOS_COMMANDS, (m) =>
      got.push(m.data),
    );
    const pub = node.createPublisher('std_msgs/msg/Float32', '/contract/close', QOS_COMMANDS);
    await new Promise((r) => setTimeout(r, transport!.kind === 'ros2' ? 500 : 0));
    pub.publish({ data: 1 });
    await until('one message', () => got.length === 1);
    sub.close();
    pub.publish({ data: 2 });
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([1]);
  });
});

describe.each(transports)('transport contract, sim time: %s', (_name, available, make) => {
  let transport: Transport | undefined;
  afterEach(async () => {
    await transport?.shutdown();
    transport = undefined;
  });

  /** A node with use_sim_time, a simulator publishing /clock, and a 10 ms timer on the node clock. */
  async function simTime(): Promise<{
    node: NodeHandle;
    publish: (ms: number) => void;
    jumps: TimeJump[];
    ticks: () => number;
  }> {
    transport = await make();
    const node = transport.createNode('contract_sim_time', { useSimTime: true });
    const pub = transport
      .createNode('contract_simulator')
      .createPublisher('rosgraph_msgs/msg/Clock', '/clock', QOS_CLOCK_PUBLISHER);
    await sleep(transport.kind === 'ros2' ? 500 : 0); // DDS discovery
    const jumps: TimeJump[] = [];
    node.clock.onJump((j) => jumps.push(j));
    let ticks = 0;
    node.clock.every(10, () => (ticks += 1));
    return { node, publish: (ms) => pub.publish({ clock: timeFromMs(ms) }), jumps, ticks: () => ticks };
  }

  it.skipIf(!available)('/clock starting late: time is 0 and timers wait until it comes', async () => {
    const { node, publish, jumps, ticks } = await simTime();
    expect(node.clock.started).toBe(false);
    expect(node.clock.now()).toBe(0);
    await sleep(50); // wall time passes; ROS time does not exist yet
    expect(ticks()).toBe(0);
    publish(5000);
    await until('the first /clock', () => node.clock.now() === 5000);
    expect(node.clock.started).toBe(true);
    await until('the start reported', () => jumps.length === 1);
    expect(jumps).toEqual([{ kind: 'started', fromMs: 0, toMs: 5000 }]);
    publish(5100);
    await until('sim time to pass', () => node.clock.now() === 5100);
    await until('the timer to fire in sim time', () => ticks() > 0);
  });

  it.skipIf(!available)('/clock jumping backwards: the clock follows and reports the jump', async () => {
    const { node, publish, jumps, ticks } = await simTime();
    publish(10_000);
    await until('the first /clock', () => node.clock.now() === 10_000);
    publish(4000); // a simulator reset
    await until('time to go back', () => node.clock.now() === 4000);
    await until('the jump reported', () => jumps.some((j) => j.kind === 'backward'));
    expect(jumps.filter((j) => j.kind === 'backward')).toEqual([
      { kind: 'backward', fromMs: 10_000, toMs: 4000 },
    ]);
    expect(node.clock.started).toBe(true);
    const before = ticks();
    publish(4100); // timers are not silenced for the length of the jump
    await until('the timer to fire after the jump', () => ticks() > before);
  });

  it.skipIf(!available)('/clock stopping: time stops and timers stop firing', async () => {
    const { node, publish, ticks } = await simTime();
    publish(1000);
    await until('the first /clock', () => node.clock.now() === 1000);
    publish(1100);
    await until('the timer to fire', () => node.clock.now() === 1100 && ticks() > 0);
    await sleep(20); // let anything still due run
    const fired = ticks();
    await sleep(100); // the simulator is paused: no /clock
    expect(node.clock.now()).toBe(1100);
    expect(ticks()).toBe(fired);
  });

  it.skipIf(!available)('a node without use_sim_time keeps the system clock and ignores /clock', async () => {
    transport = await make();
    const node = transport.createNode('contract_wall_time');
    const pub = transport
      .createNode('contract_simulator')
      .createPublisher('rosgraph_msgs/msg/Clock', '/clock', QOS_CLOCK_PUBLISHER);
    await sleep(transport.kind === 'ros2' ? 500 : 0);
    pub.publish({ clock: timeFromMs(5000) });
    await sleep(50);
    expect(node.clock.started).toBe(true);
    expect(Math.abs(node.clock.now() - Date.now())).toBeLessThan(1000);
  });
});

describe('embedded bus specifics', () => {
  it('refuses a topic used with two message types and relative topic names', () => {
    const bus = new EmbeddedBus();
    const node = bus.createNode('types');
    node.createPublisher('std_msgs/msg/Bool', '/typed', QOS_COMMANDS);
    expect(() => node.createSubscription('std_msgs/msg/Float32', '/typed', QOS_COMMANDS, () => {})).toThrow(
      new TopicTypeError('topic /typed carries std_msgs/msg/Bool, not std_msgs/msg/Float32'),
    );
    expect(() => node.createPublisher('std_msgs/msg/Bool', 'relative', QOS_COMMANDS)).toThrow(
      'topic "relative" must be absolute (start with /)',
    );
  });

  it('does not match a reliable subscription with a best-effort publisher, as DDS does not', async () => {
    const bus = new EmbeddedBus();
    const node = bus.createNode('qos');
    const got: number[] = [];
    node.createSubscription('std_msgs/msg/Float32', '/qos', QOS_COMMANDS, (m) => got.push(m.data));
    node.createPublisher('std_msgs/msg/Float32', '/qos', QOS_SENSOR_DATA).publish({ data: 1 });
    await bus.flush();
    expect(got).toEqual([]);
  });

  it('counts messages dropped by keep-last queues', async () => {
    const bus = new EmbeddedBus();
    const node = bus.createNode('drops');
    node.createSubscription('std_msgs/msg/Float32', '/drops', QOS_SENSOR_DATA, () => {});
    const pub = node.createPublisher('std_msgs/msg/Float32', '/drops', QOS_SENSOR_DATA);
    for (let i = 0; i < 4; i++) pub.publish({ data: i });
    await bus.flush();
    expect(bus.topics().get('/drops')).toEqual({
      type: 'std_msgs/msg/Float32',
      publishers: 1,
      subscriptions: 1,
      dropped: 3,
    });
  });
});

describe('rclnodejs loading', () => {
  it.skipIf(ros2EnvironmentSourced())('refuses clearly when no ROS 2 environment is sourced', async () => {
    await expect(Ros2Transport.create()).rejects.toThrow(
      'no ROS 2 environment is sourced (ROS_DISTRO and AMENT_PREFIX_PATH are unset)',
    );
  });
});

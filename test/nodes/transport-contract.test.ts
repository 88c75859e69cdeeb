// One pub/sub/QoS suite, run against every transport: the embedded bus always, ROS 2 through
// rclnodejs when a ROS 2 environment is sourced (reported as skipped otherwise, never faked).
import { afterEach, describe, expect, it } from 'vitest';
import {
  EmbeddedBus,
  QOS_COMMANDS,
  QOS_LATCHED,
  QOS_SENSOR_DATA,
  Ros2Transport,
  ros2EnvironmentSourced,
  TopicTypeError,
  type Transport,
  type Twist,
} from '../../nodes/runtime/index.ts';
import { until } from '../helpers/until.ts';

const twist = (x: number): Twist => ({ linear: { x, y: 0, z: 0 }, angular: { x: 0, y: 0, z: x / 2 } });

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

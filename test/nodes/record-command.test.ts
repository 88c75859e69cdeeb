// `fadnet record` on the embedded bus with a manual clock: what nodes publish ends up in the
// file, the duration is measured on the node clock, and the argument errors say what is wrong.
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { McapIndexedReader } from '@mcap/core';
import { FileHandleReadable } from '@mcap/nodejs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseTopicSpec, recordCommand } from '../../nodes/record/main.ts';
import { EmbeddedBus, ManualClock, QOS_COMMANDS, QOS_SENSOR_DATA } from '../../nodes/runtime/index.ts';
import { until } from '../helpers/until.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fadnet-record-cmd-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const CAMERA = '/camera/camera/color/image_raw';

/** The command opens its file before subscribing; publish only once it listens. */
async function subscribed(bus: EmbeddedBus, topic: string): Promise<void> {
  await until(`a subscription to ${topic}`, () => (bus.topics().get(topic)?.subscriptions ?? 0) > 0);
}

async function topicsOf(file: string): Promise<[string, bigint][]> {
  const handle = await open(file, 'r');
  try {
    const reader = await McapIndexedReader.Initialize({ readable: new FileHandleReadable(handle) });
    const out: [string, bigint][] = [];
    for await (const m of reader.readMessages())
      out.push([reader.channelsById.get(m.channelId)!.topic, m.logTime]);
    return out;
  } finally {
    await handle.close();
  }
}

describe('fadnet record', () => {
  it('records the default topics from live publishers until the duration has passed', async () => {
    const clock = new ManualClock(1_000);
    const bus = new EmbeddedBus({ clock });
    const sim = bus.createNode('sim');
    const camera = sim.createPublisher('sensor_msgs/msg/Image', CAMERA, QOS_SENSOR_DATA);
    const cmd = sim.createPublisher('geometry_msgs/msg/Twist', '/cmd_vel', QOS_COMMANDS);
    const expert = sim.createPublisher('std_msgs/msg/Float32', '/expert/steering', QOS_COMMANDS);
    const stdout: string[] = [];
    const file = path.join(dir, 'live.mcap');
    const done = recordCommand(['--out', file, '--duration', '2'], {
      transport: bus,
      stdout: (l) => stdout.push(l),
      stderr: () => undefined,
    });
    await subscribed(bus, '/expert/steering');
    for (let i = 0; i < 3; i++) {
      camera.publish({
        header: { stamp: { sec: 1, nanosec: i }, frame_id: 'cam' },
        height: 2,
        width: 2,
        encoding: 'mono8',
        is_bigendian: 0,
        step: 2,
        data: new Uint8Array([i, 1, 2, 3]),
      });
      expert.publish({ data: i / 4 });
      await bus.flush();
      clock.advance(100);
    }
    cmd.publish({ linear: { x: 0.2, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0.1 } });
    await bus.flush();
    clock.advance(2_000);
    expect(await done).toBe(0);
    expect(stdout).toEqual([
      `recording ${CAMERA}, /cmd_vel, /fadnet/steering, /expert/steering to ${file} for 2 s`,
      `recorded 7 messages in 2.3 s to ${file}`,
      `  ${CAMERA}  sensor_msgs/msg/Image  3`,
      '  /cmd_vel  geometry_msgs/msg/Twist  1',
      '  /fadnet/steering  std_msgs/msg/Float32  0',
      '  /expert/steering  std_msgs/msg/Float32  3',
    ]);
    expect(await topicsOf(file)).toEqual([
      [CAMERA, 1_000_000_000n],
      ['/expert/steering', 1_000_000_000n],
      [CAMERA, 1_100_000_000n],
      ['/expert/steering', 1_100_000_000n],
      [CAMERA, 1_200_000_000n],
      ['/expert/steering', 1_200_000_000n],
      ['/cmd_vel', 1_300_000_000n],
    ]);
  });

  it('records only the listed topics and stops when aborted', async () => {
    const bus = new EmbeddedBus({ clock: new ManualClock(0) });
    const pub = bus.createNode('x').createPublisher('std_msgs/msg/Bool', '/enable', QOS_COMMANDS);
    const abort = new AbortController();
    const file = path.join(dir, 'bool.mcap');
    const done = recordCommand(['--out', file, '--topics', '/enable:std_msgs/msg/Bool'], {
      transport: bus,
      signal: abort.signal,
      stdout: () => undefined,
    });
    await subscribed(bus, '/enable');
    pub.publish({ data: true });
    await bus.flush();
    abort.abort();
    expect(await done).toBe(0);
    expect(await topicsOf(file)).toEqual([['/enable', 0n]]);
  });

  it('rejects bad arguments with exit code 2 and says why', async () => {
    const run = async (args: string[]): Promise<[number, string]> => {
      const err: string[] = [];
      const code = await recordCommand(args, { stderr: (l) => err.push(l), stdout: () => undefined });
      return [code, err.join('\n').split('\n')[0]!];
    };
    expect(await run([])).toEqual([2, 'fadnet record: --out is required']);
    expect(await run(['--out'])).toEqual([2, "fadnet record: Option '--out <value>' argument missing"]);
    expect(await run(['--out', 'x.mcap', '--duration', '0'])).toEqual([
      2,
      'fadnet record: --duration must be a number above 0, got "0"',
    ]);
    expect(await run(['--out', 'x.mcap', '--topics', '/odom'])).toEqual([
      2,
      'fadnet record: topic /odom needs a type: /odom:pkg/msg/Type',
    ]);
    expect(await run(['--out', 'x.mcap', '--topics', '/cmd_vel,/cmd_vel'])).toEqual([
      2,
      'fadnet record: topic /cmd_vel is listed twice',
    ]);
    expect(await run(['--out', 'x.mcap', '--frobnicate', '1'])).toEqual([
      2,
      "fadnet record: Unknown option '--frobnicate'",
    ]);
    const missing = path.join(dir, 'no', 'x.mcap');
    expect(await run(['--out', missing])).toEqual([
      1,
      `fadnet record: cannot create recording ${missing}: ENOENT: no such file or directory, open '${missing}'`,
    ]);
  });

  it('prints its usage for --help and exits 0', async () => {
    const out: string[] = [];
    expect(await recordCommand(['--out', 'x.mcap', '--help'], { stdout: (l) => out.push(l) })).toBe(0);
    expect(out.join('\n')).toMatch(/^usage: fadnet record --out FILE\.mcap /);
  });

  it('parses topic specs against the known message types', () => {
    expect(parseTopicSpec('/odom:nav_msgs/msg/Odometry')).toEqual({
      topic: '/odom',
      type: 'nav_msgs/msg/Odometry',
    });
    expect(parseTopicSpec('/cmd_vel')).toEqual({ topic: '/cmd_vel', type: 'geometry_msgs/msg/Twist' });
    expect(() => parseTopicSpec('/x:foo_msgs/msg/Bar')).toThrow(
      /^topic \/x: unknown type "foo_msgs\/msg\/Bar" \(known: sensor_msgs\/msg\/Image, /,
    );
    expect(() => parseTopicSpec('cmd_vel:geometry_msgs/msg/Twist')).toThrow(
      'topic "cmd_vel" must be absolute (start with /)',
    );
  });
});

// The recorder against the MCAP reader Foxglove uses: real files, read back through the summary
// index, schemas parsed from the file itself, messages decoded from CDR and compared exactly.
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from '@foxglove/rosmsg';
import { ros2humble } from '@foxglove/rosmsg-msgs-common';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import { McapIndexedReader } from '@mcap/core';
import { FileHandleReadable } from '@mcap/nodejs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EmbeddedBus,
  ManualClock,
  MESSAGE_TYPE_NAMES,
  QOS_COMMANDS,
  QOS_SENSOR_DATA,
  TopicTypeError,
  type Image,
  type Twist,
} from '../../nodes/runtime/index.ts';
import { BusRecorder, McapRecorder, RecordingError, ros2msgDefinition } from '../../nodes/record/index.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fadnet-record-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function image(width: number, height: number, seed: number): Image {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed) & 0xff;
  return {
    header: { stamp: { sec: 1_700_000_000, nanosec: 5_000 + seed }, frame_id: 'camera_color_optical_frame' },
    height,
    width,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: width * 3,
    data,
  };
}

const twist = (x: number, z: number): Twist => ({ linear: { x, y: 0, z: 0 }, angular: { x: 0, y: 0, z } });

interface ReadBack {
  readonly reader: McapIndexedReader;
  readonly messages: {
    topic: string;
    logTime: bigint;
    sequence: number;
    data: Uint8Array;
    decoded: unknown;
  }[];
}

async function readBack(file: string): Promise<ReadBack> {
  const handle = await open(file, 'r');
  try {
    const reader = await McapIndexedReader.Initialize({ readable: new FileHandleReadable(handle) });
    const decoders = new Map<number, MessageReader>();
    for (const [id, schema] of reader.schemasById) {
      decoders.set(id, new MessageReader(parse(new TextDecoder().decode(schema.data), { ros2: true })));
    }
    const messages: ReadBack['messages'] = [];
    for await (const m of reader.readMessages()) {
      const channel = reader.channelsById.get(m.channelId)!;
      const decoded = decoders.get(channel.schemaId)!.readMessage(m.data);
      messages.push({
        topic: channel.topic,
        logTime: m.logTime,
        sequence: m.sequence,
        data: m.data,
        decoded,
      });
    }
    return { reader, messages };
  } finally {
    await handle.close();
  }
}

const CAMERA = '/camera/camera/color/image_raw';

// toEqual walks typed arrays element by element (seconds for a 640x480 frame); bytes compare as Buffers.
function expectSameImage(actual: unknown, expected: Image): void {
  const { data, ...rest } = actual as Image;
  const { data: expectedData, ...expectedRest } = expected;
  expect(rest).toEqual(expectedRest);
  expect(data).toBeInstanceOf(Uint8Array);
  expect(data.length).toBe(expectedData.length);
  expect(Buffer.from(data).equals(Buffer.from(expectedData))).toBe(true);
}

describe('McapRecorder', () => {
  it('writes ros2 profile, ros2msg schemas and cdr channels that decode to the exact messages', async () => {
    const file = path.join(dir, 'run.mcap');
    const rec = await McapRecorder.open(file, { topics: [{ topic: '/unused', type: 'std_msgs/msg/Bool' }] });
    const small = image(64, 48, 1);
    const large = image(640, 480, 2);
    await rec.write(CAMERA, 'sensor_msgs/msg/Image', small, 1_000n);
    void rec.write('/cmd_vel', 'geometry_msgs/msg/Twist', twist(0.5, -0.25), 1_500n);
    void rec.write('/expert/steering', 'std_msgs/msg/Float32', { data: 0.25 }, 1_600n);
    await rec.write(CAMERA, 'sensor_msgs/msg/Image', large, 2_000n);
    const summary = await rec.close();
    expect(summary.messages).toBe(4);
    expect([...summary.topics]).toEqual([
      ['/unused', { type: 'std_msgs/msg/Bool', messages: 0 }],
      [CAMERA, { type: 'sensor_msgs/msg/Image', messages: 2 }],
      ['/cmd_vel', { type: 'geometry_msgs/msg/Twist', messages: 1 }],
      ['/expert/steering', { type: 'std_msgs/msg/Float32', messages: 1 }],
    ]);

    const { reader, messages } = await readBack(file);
    expect(reader.header.profile).toBe('ros2');
    const schemas = [...reader.schemasById.values()].map((s) => [s.name, s.encoding]);
    expect(schemas).toEqual([
      ['std_msgs/msg/Bool', 'ros2msg'],
      ['sensor_msgs/msg/Image', 'ros2msg'],
      ['geometry_msgs/msg/Twist', 'ros2msg'],
      ['std_msgs/msg/Float32', 'ros2msg'],
    ]);
    for (const ch of reader.channelsById.values()) expect(ch.messageEncoding).toBe('cdr');
    expect(reader.chunkIndexes.length).toBeGreaterThan(0);
    expect(reader.statistics?.messageCount).toBe(4n);

    expect(messages.map((m) => [m.topic, m.logTime, m.sequence])).toEqual([
      [CAMERA, 1_000n, 0],
      ['/cmd_vel', 1_500n, 0],
      ['/expert/steering', 1_600n, 0],
      [CAMERA, 2_000n, 1],
    ]);
    expectSameImage(messages[0]!.decoded, small);
    expect(messages[1]!.decoded).toEqual(twist(0.5, -0.25));
    expect(messages[2]!.decoded).toEqual({ data: 0.25 });
    expectSameImage(messages[3]!.decoded, large);
    // What ROS 2 puts on the wire: CDR little-endian encapsulation header, then the float.
    expect([...messages[2]!.data]).toEqual([0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3e]);
  });

  it('stores the complete definition as rosbag2 concatenates it', () => {
    const bar = '='.repeat(80);
    const def = ros2msgDefinition('geometry_msgs/msg/TwistStamped');
    const headings = def.split('\n').filter((l) => l.startsWith('MSG: '));
    expect(headings).toEqual([
      'MSG: geometry_msgs/Twist',
      'MSG: geometry_msgs/Vector3',
      'MSG: std_msgs/Header',
      'MSG: builtin_interfaces/Time',
    ]);
    expect(def).toContain(`Twist twist\n\n${bar}\nMSG: geometry_msgs/Twist\n`);
    expect(ros2msgDefinition('std_msgs/msg/Float32')).toBe('float32 data\n');
  });

  it('has definitions that parse to the published ROS 2 Humble ones for every runtime type', () => {
    for (const type of MESSAGE_TYPE_NAMES) {
      const parsed = parse(ros2msgDefinition(type), { ros2: true });
      const short = type.replace('/msg/', '/') as keyof typeof ros2humble;
      const fields = (defs: { definitions: unknown[] }): unknown => defs.definitions;
      expect(fields(parsed[0]!), type).toEqual(fields(ros2humble[short]));
      for (const dep of parsed.slice(1)) {
        expect(fields(dep), `${type} > ${dep.name}`).toEqual(
          fields(ros2humble[dep.name as keyof typeof ros2humble]),
        );
      }
    }
  });

  it('rejects a topic recorded under a second type, and writes after close', async () => {
    const file = path.join(dir, 'x.mcap');
    const rec = await McapRecorder.open(file);
    await rec.write('/cmd_vel', 'geometry_msgs/msg/Twist', twist(0, 0), 1n);
    expect(() => rec.write('/cmd_vel', 'std_msgs/msg/Float32', { data: 1 }, 2n)).toThrow(
      new TopicTypeError('topic /cmd_vel carries geometry_msgs/msg/Twist, not std_msgs/msg/Float32'),
    );
    await rec.close();
    await expect(rec.write('/cmd_vel', 'geometry_msgs/msg/Twist', twist(0, 0), 3n)).rejects.toThrow(
      new RecordingError(`recording ${file} is closed`, file),
    );
    expect((await readBack(file)).messages).toHaveLength(1);
  });

  it('fails to open a file it cannot create with a RecordingError naming it', async () => {
    const file = path.join(dir, 'missing', 'x.mcap');
    const error: unknown = await McapRecorder.open(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordingError);
    expect((error as RecordingError).message).toBe(`cannot create recording ${file}`);
    expect((error as RecordingError).cause).toMatchObject({ code: 'ENOENT' });
  });
});

describe('BusRecorder', () => {
  it('records the chosen topics of the bus at the bus clock, and nothing else', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const bus = new EmbeddedBus({ clock });
    const node = bus.createNode('sim');
    const camera = node.createPublisher('sensor_msgs/msg/Image', CAMERA, QOS_SENSOR_DATA);
    const cmd = node.createPublisher('geometry_msgs/msg/Twist', '/cmd_vel', QOS_COMMANDS);
    const other = node.createPublisher('std_msgs/msg/Float32', '/fadnet/steering', QOS_COMMANDS);
    const file = path.join(dir, 'bus.mcap');
    const rec = await BusRecorder.start(bus, file, {
      topics: [
        { topic: CAMERA, type: 'sensor_msgs/msg/Image' },
        { topic: '/cmd_vel', type: 'geometry_msgs/msg/Twist' },
      ],
    });
    const frame = image(64, 48, 3);
    camera.publish(frame);
    // The publisher reuses its buffer at once: the recording must hold the bytes at publish time.
    const published = { ...frame, data: frame.data.slice() };
    frame.data.fill(0);
    clock.advance(33.5);
    cmd.publish(twist(0.3, 0.1));
    other.publish({ data: 0.7 });
    const summary = await rec.close();
    camera.publish(image(64, 48, 4));
    await bus.flush();

    expect([...summary.topics].map(([t, c]) => [t, c.messages])).toEqual([
      [CAMERA, 1],
      ['/cmd_vel', 1],
    ]);
    expect([...summary.dropped]).toEqual([]);
    const { messages } = await readBack(file);
    expect(messages.map((m) => [m.topic, m.logTime])).toEqual([
      [CAMERA, 1_700_000_000_000_000_000n],
      ['/cmd_vel', 1_700_000_000_033_500_000n],
    ]);
    expect(messages[0]!.decoded).toEqual(published);
    expect(messages[1]!.decoded).toEqual(twist(0.3, 0.1));
  });

  it('drops and counts messages while too many bytes wait for the disk', async () => {
    const bus = new EmbeddedBus({ clock: new ManualClock(0) });
    const camera = bus.createNode('sim').createPublisher('sensor_msgs/msg/Image', CAMERA, QOS_SENSOR_DATA);
    const file = path.join(dir, 'drop.mcap');
    const rec = await BusRecorder.start(bus, file, {
      topics: [{ topic: CAMERA, type: 'sensor_msgs/msg/Image' }],
      maxPendingBytes: 1,
    });
    // Published in one synchronous burst, so the first frame is still pending for the others.
    for (let i = 0; i < 5; i++) camera.publish(image(64, 48, i));
    const summary = await rec.close();
    expect(summary.topics.get(CAMERA)?.messages).toBe(1);
    expect(summary.dropped.get(CAMERA)).toBe(4);
    expect((await readBack(file)).messages).toHaveLength(1);
  });
});

// The live view against a real Foxglove client on a real socket: what the Foxglove app would
// receive is decoded and compared with what the nodes published, byte for byte.
import type { Socket } from 'node:net';
import wsProtocol from '@foxglove/ws-protocol';
import type { Channel, IWebSocket, MessageData, SubscriptionId } from '@foxglove/ws-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { encodeMessage, LiveView, type LiveViewOptions } from '../../nodes/live/index.ts';
import {
  EmbeddedBus,
  ManualClock,
  QOS_COMMANDS,
  QOS_SENSOR_DATA,
  type Image,
  type Twist,
} from '../../nodes/runtime/index.ts';
import { until } from '../helpers/until.ts';

const { FoxgloveClient } = wsProtocol;

const CAMERA = '/camera/camera/color/image_raw';
const START_MS = 1_700_000_000_000;

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

// Exactly the fields of foxglove.RawImage, no more: what the Image panel reads.
const RawImage = z
  .object({
    timestamp: z.object({ sec: z.number(), nsec: z.number() }).strict(),
    frame_id: z.string(),
    width: z.number(),
    height: z.number(),
    encoding: z.string(),
    step: z.number(),
    data: z.string(),
  })
  .strict();

function image(width: number, height: number, seed: number, stamp = { sec: 0, nanosec: 0 }): Image {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + seed) & 0xff;
  return {
    header: { stamp, frame_id: 'camera_color_optical_frame' },
    height,
    width,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: width * 3,
    data,
  };
}

interface Viewer {
  readonly ws: WebSocket;
  readonly client: InstanceType<typeof FoxgloveClient>;
  readonly channels: Map<string, Channel>;
  readonly received: MessageData[];
  readonly socket: () => Socket;
  /** Resolves once the server has handled everything this viewer sent before it. */
  readonly roundTrip: () => Promise<void>;
}

async function connect(url: string): Promise<Viewer> {
  const ws = new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
  let socket: Socket | undefined;
  ws.once('upgrade', (response) => (socket = response.socket));
  // ws's send() types its second parameter as a callback or options, IWebSocket as options
  // only; at run time ws takes the options object, so only the declarations disagree.
  const client = new FoxgloveClient({ ws: ws as unknown as IWebSocket });
  const channels = new Map<string, Channel>();
  const received: MessageData[] = [];
  const statuses: string[] = [];
  client.on('advertise', (list) => list.forEach((c) => channels.set(c.topic, c)));
  client.on('message', (m) => received.push(m));
  client.on('status', (s) => statuses.push(s.message));
  await new Promise<void>((resolve, reject) => {
    client.on('open', resolve);
    client.on('error', reject);
  });
  // The protocol has no ping: subscribing to a channel that cannot exist is answered with a
  // status, and the server answers in order, so that status marks everything before it as done.
  let pings = 0;
  const roundTrip = async (): Promise<void> => {
    pings += 1;
    const want = pings;
    client.subscribe(1_000_000 + want);
    await until(
      'the rate-limit status',
      () => statuses.filter((s) => s.startsWith('Channel 1000')).length >= want,
    );
  };
  return {
    ws,
    client,
    channels,
    received,
    socket: () => socket ?? expect.unreachable('no upgrade response'),
    roundTrip,
  };
}

const decode = (m: MessageData): unknown =>
  JSON.parse(new TextDecoder().decode(new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength)));

describe('live view (Foxglove WebSocket server)', () => {
  let bus: EmbeddedBus;
  let clock: ManualClock;
  let live: LiveView | undefined;
  let viewer: Viewer | undefined;
  const logs: string[] = [];

  async function setUp(options: Partial<LiveViewOptions> = {}): Promise<void> {
    clock = new ManualClock(START_MS);
    bus = new EmbeddedBus({ clock });
    live = await LiveView.start({ bus, port: 0, log: (line) => logs.push(line), ...options });
  }

  afterEach(async () => {
    if (viewer !== undefined && viewer.ws.readyState !== WebSocket.CLOSED) {
      const closed = new Promise((r) => viewer?.ws.once('close', r));
      viewer.client.close();
      await closed;
    }
    viewer = undefined;
    await live?.close();
    live = undefined;
    await bus.shutdown();
    logs.length = 0;
  });

  it('streams subscribed topics that decode to exactly what was published', async () => {
    await setUp();
    expect(live?.url).toBe(`ws://127.0.0.1:${live?.port}`);
    const node = bus.createNode('publisher');
    const camera = node.createPublisher('sensor_msgs/msg/Image', CAMERA, QOS_SENSOR_DATA);
    const cmdVel = node.createPublisher('geometry_msgs/msg/Twist', '/cmd_vel', QOS_COMMANDS);

    viewer = await connect(live?.url ?? '');
    const v = viewer;
    await until(
      'the camera and /cmd_vel channels',
      () => v.channels.has(CAMERA) && v.channels.has('/cmd_vel'),
    );
    const cam = v.channels.get(CAMERA);
    expect(cam).toMatchObject({
      encoding: 'json',
      schemaName: 'foxglove.RawImage',
      schemaEncoding: 'jsonschema',
    });
    expect(JSON.parse(cam?.schema ?? '')).toMatchObject({
      properties: { data: { type: 'string', contentEncoding: 'base64' }, step: { type: 'integer' } },
    });
    const cmd = v.channels.get('/cmd_vel');
    expect(cmd?.schemaName).toBe('geometry_msgs/msg/Twist');
    expect(JSON.parse(cmd?.schema ?? '')).toEqual({
      title: 'geometry_msgs/msg/Twist',
      type: 'object',
      properties: {
        linear: {
          type: 'object',
          properties: { x: { type: 'number' }, y: { type: 'number' }, z: { type: 'number' } },
        },
        angular: {
          type: 'object',
          properties: { x: { type: 'number' }, y: { type: 'number' }, z: { type: 'number' } },
        },
      },
    });

    // A topic that appears while the viewer is connected is advertised to it on first publish.
    const steering = node.createPublisher('std_msgs/msg/Float32', '/fadnet/steering', QOS_COMMANDS);
    steering.publish({ data: 0.125 });
    await until('the /fadnet/steering channel', () => v.channels.has('/fadnet/steering'));
    expect(v.channels.get('/fadnet/steering')?.schemaName).toBe('std_msgs/msg/Float32');

    const camSub = v.client.subscribe(cam?.id ?? -1);
    const cmdSub = v.client.subscribe(cmd?.id ?? -1);
    await v.roundTrip();

    const frame = image(64, 48, 3, { sec: 12, nanosec: 345 });
    const twist: Twist = { linear: { x: 0.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: -0.25 } };
    camera.publish(frame);
    cmdVel.publish(twist);
    steering.publish({ data: -0.5 }); // nobody subscribed: must not arrive
    await tick();
    await v.roundTrip();

    expect(v.received.map((m) => m.subscriptionId).sort()).toEqual([camSub, cmdSub].sort());
    const bySub = (id: SubscriptionId): MessageData =>
      v.received.find((m) => m.subscriptionId === id) ?? expect.unreachable(`nothing on ${id}`);

    const got = RawImage.parse(decode(bySub(camSub)));
    expect(bySub(camSub).timestamp).toBe(12_000_000_345n); // the header stamp
    expect({ ...got, data: undefined }).toEqual({
      timestamp: { sec: 12, nsec: 345 },
      frame_id: 'camera_color_optical_frame',
      width: 64,
      height: 48,
      encoding: 'rgb8',
      step: 192,
      data: undefined,
    });
    expect(new Uint8Array(Buffer.from(got.data, 'base64'))).toEqual(frame.data);

    expect(decode(bySub(cmdSub))).toEqual(twist);
    expect(bySub(cmdSub).timestamp).toBe(BigInt(START_MS) * 1_000_000n); // no header: the clock
    expect(live?.stats()).toEqual({ sent: 2, throttled: 0, backpressured: 0, failed: 0 });
    expect(logs).toEqual([]);
  });

  it('limits each camera channel to maxImageRateHz of the injected clock', async () => {
    await setUp(); // default 10 Hz
    const camera = bus.createNode('cam').createPublisher('sensor_msgs/msg/Image', CAMERA, QOS_SENSOR_DATA);
    viewer = await connect(live?.url ?? '');
    const v = viewer;
    await until('the camera channel', () => v.channels.has(CAMERA));
    v.client.subscribe(v.channels.get(CAMERA)?.id ?? -1);
    await v.roundTrip();

    // 25 frames at 50 Hz over 500 ms: only those 100 ms apart go out.
    for (let i = 0; i < 25; i++) {
      camera.publish(image(8, 6, i));
      clock.advance(20);
    }
    await tick();
    await v.roundTrip();
    const seeds = v.received.map((m) => {
      const bytes = Buffer.from(RawImage.parse(decode(m)).data, 'base64');
      return bytes[0]; // (0 * 7 + seed) & 0xff
    });
    expect(seeds).toEqual([0, 5, 10, 15, 20]);
    expect(live?.stats()).toMatchObject({ sent: 5, throttled: 20 });
  });

  it('drops frames for a viewer that stops reading instead of queueing them, then recovers', async () => {
    await setUp({ maxImageRateHz: Infinity, maxBufferedBytes: 256 * 1024 });
    const camera = bus.createNode('cam').createPublisher('sensor_msgs/msg/Image', CAMERA, QOS_SENSOR_DATA);
    viewer = await connect(live?.url ?? '');
    const v = viewer;
    await until('the camera channel', () => v.channels.has(CAMERA));
    v.client.subscribe(v.channels.get(CAMERA)?.id ?? -1);
    await v.roundTrip();

    v.socket().pause(); // the viewer's TCP reader stalls; the kernel buffers fill, then ws's
    const frames = 30;
    for (let i = 0; i < frames; i++) {
      camera.publish(image(640, 480, i)); // ~1.2 MB of base64 each
      await tick();
    }
    const stalled = live?.stats() ?? expect.unreachable();
    expect(stalled.sent + stalled.backpressured).toBe(frames);
    expect(stalled.backpressured).toBeGreaterThan(0);
    expect(stalled.sent).toBeLessThan(frames);

    v.socket().resume();
    await until('every message sent', () => v.received.length === stalled.sent);
    for (const m of v.received) expect(RawImage.parse(decode(m)).width).toBe(640);

    camera.publish(image(640, 480, 99));
    await until('the message after the stall', () => v.received.length === stalled.sent + 1);
    expect(
      Buffer.from(RawImage.parse(decode(v.received.at(-1) ?? expect.unreachable())).data, 'base64')[0],
    ).toBe(99);
    expect(logs).toEqual([]);
  });

  it('contains a message it cannot encode: publish does not throw, one log line, the next frame goes out', async () => {
    await setUp();
    const camera = bus.createNode('cam').createPublisher('sensor_msgs/msg/Image', CAMERA, QOS_SENSOR_DATA);
    viewer = await connect(live?.url ?? '');
    const v = viewer;
    await until('the camera channel', () => v.channels.has(CAMERA));
    v.client.subscribe(v.channels.get(CAMERA)?.id ?? -1);
    await v.roundTrip();

    const broken = { ...image(8, 6, 1), header: undefined } as unknown as Image;
    expect(() => camera.publish(broken)).not.toThrow();
    await tick();
    clock.advance(100);
    camera.publish(broken);
    await tick();
    clock.advance(100);
    camera.publish(image(8, 6, 42));
    await until('one message', () => v.received.length === 1);
    expect(Buffer.from(RawImage.parse(decode(v.received[0] ?? expect.unreachable())).data, 'base64')[0]).toBe(
      42,
    );
    expect(logs).toEqual([
      `cannot forward ${CAMERA}: Cannot read properties of undefined (reading 'frame_id'); later failures on it are counted, not logged`,
    ]);
    expect(live?.stats()).toMatchObject({ sent: 1, failed: 2 });
  });

  it('writes bytes as base64 and bigints as numbers when exact, as strings when not', () => {
    const odd = { data: 2n ** 60n, small: 5n, raw: new Uint8Array([1, 2, 3]), f: new Float32Array([1]) };
    const { timestamp, payload } = encodeMessage('std_msgs/msg/Float32', odd, 1.5);
    expect(timestamp).toBe(1_500_000n);
    expect(Buffer.from(payload).toString()).toBe(
      '{"data":"1152921504606846976","small":5,"raw":"AQID","f":"AACAPw=="}',
    );
  });

  it('refuses a port outside 0..65535 and reports a port in use with the address', async () => {
    await setUp();
    await expect(LiveView.start({ bus, port: 70000 })).rejects.toThrow(
      'live view port must be an integer in 0..65535, got 70000',
    );
    await expect(LiveView.start({ bus, port: live?.port ?? 0 })).rejects.toThrow(
      `live view cannot listen on 127.0.0.1:${live?.port}: listen EADDRINUSE: address already in use 127.0.0.1:${live?.port}`,
    );
  });
});

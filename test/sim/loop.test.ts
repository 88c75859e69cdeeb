// The closed loop end to end: simulator -> embedded bus -> the robot's steering node (real
// ONNX Runtime) -> /cmd_vel -> simulator, and the `fadnet sim` command with a recording.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { McapIndexedReader } from '@mcap/core';
import { FileHandleReadable } from '@mcap/nodejs';
import { open } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeModelPackage } from '../../models/src/files.ts';
import { weightsFromSafetensors } from '../../models/src/weights/weight-set.ts';
import { timeToMs, type ClockMessage, type TopicStats } from '../../nodes/runtime/index.ts';
import { runClosedLoop } from '../../sim/loop/closed-loop.ts';
import { loadWorld } from '../../sim/world/load.ts';
import { loadFixture } from '../helpers/fixture.ts';

const run = promisify(execFile);
let dir: string;
let manifestPath: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fadnet-loop-'));
  ({ manifestPath } = await writeModelPackage({
    dir,
    name: 'fixture',
    version: '0.0.1',
    weights: weightsFromSafetensors(loadFixture().weightsBytes),
    provenance: { data: ['fixture'], rounds: 0, date: '2026-01-01T00:00:00.000Z' },
  }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('closed loop', () => {
  it('runs the unchanged steering node in lockstep: one command per frame, deterministic', async () => {
    const options = {
      world: loadWorld('gym-oval'),
      laps: 1,
      seed: 3,
      driver: 'model' as const,
      manifestPath,
      maxSimSeconds: 2,
    };
    let clockTopic: TopicStats | undefined;
    const clockTimes: number[] = [];
    const a = await runClosedLoop({
      ...options,
      attach: (bus) => {
        clockTopic = bus.topics().get('/clock');
        bus.tap((topic, _type, m) => {
          if (topic === '/clock') clockTimes.push(timeToMs((m as ClockMessage).clock));
        });
      },
    });
    // The simulator publishes its time on /clock and the steering node (gazebo.yaml,
    // use_sim_time: true) is its one subscriber: it runs on that time and no other.
    expect(clockTopic).toEqual({
      type: 'rosgraph_msgs/msg/Clock',
      publishers: 1,
      subscriptions: 1,
      dropped: 0,
    });
    expect(clockTimes.length).toBe(1 + 60); // the start, then one per camera frame
    expect(clockTimes[0]).toBe(1_000_000);
    expect(clockTimes.at(-1)).toBeCloseTo(1_002_000, 6);
    expect(a.frames).toBe(60);
    expect(a.sim_seconds).toBeCloseTo(2, 1);
    expect(a.mean_speed_mps).toBeGreaterThan(0.1); // the node drove: its commands moved the robot
    expect(Number.isFinite(a.mean_cte_m)).toBe(true);
    const b = await runClosedLoop(options);
    expect(b.trajectory).toEqual(a.trajectory);
  });

  it('fadnet sim prints one JSON summary line and records camera, /cmd_vel and the expert to MCAP', async () => {
    const mcap = path.join(dir, 'run.mcap');
    const picture = path.join(dir, 'run.png');
    const { stdout } = await run(process.execPath, [
      path.resolve('bin/fadnet.mjs'),
      'sim',
      '--world',
      'office-loop',
      '--expert',
      '--seconds',
      '3',
      '--record',
      mcap,
      '--picture',
      picture,
      '--json',
    ]);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!) as Record<string, unknown>;
    for (const key of [
      'laps_completed',
      'collisions',
      'mean_cte_m',
      'max_cte_m',
      'mean_speed_mps',
      'interventions',
    ]) {
      expect(typeof summary[key], key).toBe('number');
    }
    expect(summary).toMatchObject({
      world: 'office-loop',
      driver: 'expert',
      collisions: 0,
      interventions: 0,
      picture,
    });
    const handle = await open(mcap, 'r');
    const reader = await McapIndexedReader.Initialize({ readable: new FileHandleReadable(handle) });
    const topics = new Map([...reader.channelsById.values()].map((c) => [c.topic, c]));
    const counts = new Map<string, number>();
    for await (const m of reader.readMessages()) {
      const t = reader.channelsById.get(m.channelId)!.topic;
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    await handle.close();
    expect(reader.header.profile).toBe('ros2');
    expect(topics.get('/camera/camera/color/image_raw')?.messageEncoding).toBe('cdr');
    expect(counts.get('/camera/camera/color/image_raw')).toBe(90);
    expect(counts.get('/expert/steering')).toBe(90);
    expect(counts.get('/cmd_vel')).toBe(90);
  });
});

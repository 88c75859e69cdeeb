import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedBus, parseRosArgs, QOS_COMMANDS, remapped } from '../../nodes/runtime/index.ts';
import { loadSteeringParams } from '../../nodes/steering/main.ts';

describe('--ros-args as ros2 launch passes them', () => {
  it('parses parameters, params files, remaps and the node name', () => {
    const args = parseRosArgs([
      '--embedded',
      '--ros-args',
      '-r',
      '__node:=steer',
      '--params-file',
      '/tmp/x.yaml',
      '-p',
      'cruise_speed:=0.2',
      '-r',
      'cmd_vel:=/robot/cmd_vel',
      '--log-level',
      'info',
    ]);
    expect(args).toEqual({
      params: ['cruise_speed:=0.2'],
      paramFiles: ['/tmp/x.yaml'],
      remaps: new Map([['/cmd_vel', '/robot/cmd_vel']]),
      nodeName: 'steer',
      rest: ['--embedded'],
    });
    expect(() => parseRosArgs(['--ros-args', '-r', 'nonsense'])).toThrow('remap "nonsense" is not from:=to');
  });

  it('loads the params file then the -p overrides for the named node', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fadnet-rosargs-'));
    const file = path.join(dir, 'p.yaml');
    await writeFile(file, 'steer:\n  ros__parameters:\n    cruise_speed: 0.9\n    steering_sign: -1\n');
    const p = await loadSteeringParams(
      ['--ros-args', '--params-file', file, '-p', 'cruise_speed:=0.4'],
      'steer',
    );
    expect(p.cruise_speed).toBe(0.4);
    expect(p.steering_sign).toBe(-1);
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the provider list as a string array from a params file and from -p, as ros2 does', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fadnet-rosargs-'));
    const file = path.join(dir, 'p.yaml');
    await writeFile(file, 'n:\n  ros__parameters:\n    execution_providers: [tensorrt, cuda, cpu]\n');
    const fromFile = await loadSteeringParams(['--ros-args', '--params-file', file], 'n');
    expect(fromFile.execution_providers).toEqual(['tensorrt', 'cuda', 'cpu']);
    const fromFlag = await loadSteeringParams(
      ['--ros-args', '--params-file', file, '-p', 'execution_providers:=[qnn,cpu]'],
      'n',
    );
    expect(fromFlag.execution_providers).toEqual(['qnn', 'cpu']);
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects an unknown execution provider naming it', async () => {
    await expect(
      loadSteeringParams(['--ros-args', '-p', 'execution_providers:=[cuda,npu]'], 'n'),
    ).rejects.toThrow(
      'parameter execution_providers of node n (from command line) has "npu", expected one of "tensorrt", "cuda", "qnn", "coreml", "dml", "webgpu", "cpu"',
    );
  });

  it('applies topic remaps on the embedded bus', async () => {
    const bus = new EmbeddedBus();
    const node = remapped(bus.createNode('a'), new Map([['/cmd_vel', '/robot/cmd_vel']]));
    const got: number[] = [];
    bus
      .createNode('b')
      .createSubscription('std_msgs/msg/Float32', '/robot/cmd_vel', QOS_COMMANDS, (m) => got.push(m.data));
    node.createPublisher('std_msgs/msg/Float32', '/cmd_vel', QOS_COMMANDS).publish({ data: 1 });
    await bus.flush();
    expect(got).toEqual([1]);
  });
});

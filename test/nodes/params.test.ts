import { describe, expect, it } from 'vitest';
import {
  ParameterError,
  parametersFromYaml,
  parseOverrides,
  resolveParameters,
} from '../../nodes/runtime/params.ts';
import { STEERING_NODE_NAME, STEERING_PARAMS } from '../../nodes/steering/params.ts';

describe('parameters', () => {
  it('takes defaults, then the params file, then command-line overrides', () => {
    const yaml = `
fadnet_steering:
  ros__parameters:
    cruise_speed: 0.8
    steering_sign: -1
    camera_topic: /cam/image
`;
    const values = resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS, [
      { name: 'robot.yaml', values: parametersFromYaml(yaml, STEERING_NODE_NAME) },
      {
        name: 'command line',
        values: parseOverrides(['cruise_speed:=0.3', 'compressed:=true'], STEERING_NODE_NAME),
      },
    ]);
    expect(values.cruise_speed).toBe(0.3);
    expect(values.steering_sign).toBe(-1);
    expect(values.camera_topic).toBe('/cam/image');
    expect(values.compressed).toBe(true);
    expect(values.max_frame_age_ms).toBe(200);
  });

  it('reads the /** wildcard section and nested names', () => {
    const yaml = `/**:\n  ros__parameters:\n    use_sim_time: true\n    smoothing: 1.0\n`;
    expect(
      resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS, [
        { name: 'f', values: parametersFromYaml(yaml, 'x') },
      ]).smoothing,
    ).toBe(1);
  });

  it('keeps use_sim_time, which every node has (false unless set), and checks it is a bool', () => {
    expect(resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS).use_sim_time).toBe(false);
    const yaml = `fadnet_steering:\n  ros__parameters:\n    use_sim_time: true\n`;
    expect(
      resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS, [
        { name: 'gazebo.yaml', values: parametersFromYaml(yaml, STEERING_NODE_NAME) },
      ]).use_sim_time,
    ).toBe(true);
    expect(() =>
      resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS, [
        { name: 'command line', values: { use_sim_time: 'yes' } },
      ]),
    ).toThrow(
      new ParameterError(
        'parameter use_sim_time of node fadnet_steering (from command line) must be true or false, got "yes"',
        'fadnet_steering',
        'use_sim_time',
      ),
    );
  });

  it('stops start-up naming the parameter when a value is out of range', () => {
    expect(() =>
      resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS, [
        { name: 'command line', values: { cruise_speed: 9 } },
      ]),
    ).toThrow(
      new ParameterError(
        'parameter cruise_speed of node fadnet_steering (from command line) is 9, outside [0, 5]',
        'fadnet_steering',
        'cruise_speed',
      ),
    );
  });

  it('names a wrongly typed value and an unknown parameter', () => {
    expect(() =>
      resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS, [
        { name: 'robot.yaml', values: { compressed: 'yes' } },
      ]),
    ).toThrow(
      'parameter compressed of node fadnet_steering (from robot.yaml) must be true or false, got "yes"',
    );
    expect(() =>
      resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS, [
        { name: 'robot.yaml', values: { intra_op_threads: 1.5 } },
      ]),
    ).toThrow(
      'parameter intra_op_threads of node fadnet_steering (from robot.yaml) must be an integer, got 1.5',
    );
    expect(() =>
      resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS, [
        { name: 'robot.yaml', values: { cruise_sped: 1 } },
      ]),
    ).toThrow('node fadnet_steering has no parameter cruise_sped (from robot.yaml)');
  });

  it('allows only the declared choices: steering_sign is -1 or 1, never 0', () => {
    const sign = (value: unknown): number =>
      resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS, [
        { name: 'robot.yaml', values: { steering_sign: value } },
      ]).steering_sign;
    expect(sign(-1)).toBe(-1);
    expect(sign(1)).toBe(1);
    expect(() => sign(0)).toThrow(
      new ParameterError(
        'parameter steering_sign of node fadnet_steering (from robot.yaml) is 0, expected one of -1, 1',
        'fadnet_steering',
        'steering_sign',
      ),
    );
  });

  it('reads string arrays as ROS 2 STRING_ARRAY: YAML lists in files and -p name:=[a,b]', () => {
    const decls = {
      names: { type: 'string_array', default: ['a'], choices: ['a', 'b', 'c'], minItems: 1, description: '' },
    } as const;
    const yaml = 'n:\n  ros__parameters:\n    names: [b, c]\n';
    expect(
      resolveParameters('n', decls, [{ name: 'f.yaml', values: parametersFromYaml(yaml, 'n') }]).names,
    ).toEqual(['b', 'c']);
    expect(
      resolveParameters('n', decls, [{ name: 'cli', values: parseOverrides(['names:=[c,a]'], 'n') }]).names,
    ).toEqual(['c', 'a']);
    expect(resolveParameters('n', decls).names).toEqual(['a']);
    expect(() =>
      resolveParameters('n', decls, [{ name: 'cli', values: parseOverrides(['names:=a,b'], 'n') }]),
    ).toThrow('parameter names of node n (from cli) must be a list of strings such as [a, b], got "a,b"');
    expect(() => resolveParameters('n', decls, [{ name: 'cli', values: { names: ['a', 'd'] } }])).toThrow(
      'parameter names of node n (from cli) has "d", expected one of "a", "b", "c"',
    );
    expect(() => resolveParameters('n', decls, [{ name: 'cli', values: { names: [] } }])).toThrow(
      'parameter names of node n (from cli) has 0 items, needs at least 1',
    );
    expect(() => resolveParameters('n', decls, [{ name: 'cli', values: { names: ['a', 1] } }])).toThrow(
      'parameter names of node n (from cli) must be a list of strings such as [a, b], got ["a",1]',
    );
  });

  it('rejects malformed overrides and files', () => {
    expect(() => parseOverrides(['cruise_speed=1'], 'n')).toThrow(
      'parameter override "cruise_speed=1" is not name:=value',
    );
    expect(() => parametersFromYaml('n:\n  other: 1\n', 'n', 'p.yaml')).toThrow(
      'p.yaml: section n has no ros__parameters mapping',
    );
  });
});

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

  it('rejects malformed overrides and files', () => {
    expect(() => parseOverrides(['cruise_speed=1'], 'n')).toThrow(
      'parameter override "cruise_speed=1" is not name:=value',
    );
    expect(() => parametersFromYaml('n:\n  other: 1\n', 'n', 'p.yaml')).toThrow(
      'p.yaml: section n has no ros__parameters mapping',
    );
  });
});

// The motor bridge and ROS sim time: the serial link, the controller's command timeout and
// the heartbeat run in wall-clock time, so `use_sim_time: true` is refused before anything opens.
import { describe, expect, it } from 'vitest';
import { BridgeNode } from '../../firmware-bridge/node.ts';
import { EmbeddedBus, ParameterError } from '../../nodes/runtime/index.ts';

describe('bridge node under use_sim_time', () => {
  it('refuses use_sim_time: true naming the parameter, without opening the port', () => {
    const bus = new EmbeddedBus();
    let opened = 0;
    const start = (useSimTime: boolean): BridgeNode =>
      new BridgeNode({
        node: bus.createNode('motor_bridge'),
        parameters: [{ name: 'params file', values: { use_sim_time: useSimTime, port: '/nonexistent' } }],
        transport: () => {
          opened++;
          throw new Error('the transport must not be made');
        },
        log: () => undefined,
      });
    let error: unknown;
    try {
      start(true);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ParameterError);
    expect((error as ParameterError).parameter).toBe('use_sim_time');
    expect((error as Error).message).toBe(
      'motor_bridge: use_sim_time must be false: the bridge times a real serial link and motor controller in wall-clock time',
    );
    expect(opened).toBe(0);
    // With sim time off, the same parameters go on to make the transport.
    expect(() => start(false)).toThrow('the transport must not be made');
    expect(opened).toBe(1);
  });
});

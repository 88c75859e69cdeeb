import { EmbeddedBus } from './embedded.ts';
import { Ros2Transport, ros2EnvironmentSourced } from './rclnodejs.ts';
import type { Transport } from './transport.ts';

/**
 * `auto`: ROS 2 when a ROS 2 environment is sourced, else the embedded bus. One log line says which.
 */
export async function createTransport(
  prefer: 'auto' | 'embedded' | 'ros2' = 'auto',
  log: (line: string) => void = console.error,
): Promise<Transport> {
  if (prefer === 'ros2' || (prefer === 'auto' && ros2EnvironmentSourced())) {
    const t = await Ros2Transport.create();
    log(`transport: ROS 2 ${process.env['ROS_DISTRO'] ?? ''} through rclnodejs`);
    return t;
  }
  log('transport: embedded in-process bus (no ROS 2 environment sourced)');
  return new EmbeddedBus();
}

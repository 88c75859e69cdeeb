// The bridge node: /cmd_vel in, odometry, battery and diagnostics out, the serial link to the
// motor controller underneath. Written against the node runtime, so it runs on the embedded
// bus and on ROS 2 alike.
import type { Cancel } from '../nodes/runtime/clock.ts';
import type { BatteryState, DiagnosticStatus, Odometry } from '../nodes/runtime/messages.ts';
import { DiagnosticLevel, timeFromMs } from '../nodes/runtime/messages.ts';
import { ParameterError, resolveParameters } from '../nodes/runtime/params.ts';
import { QOS_COMMANDS, QOS_SENSOR_DATA, QOS_STATUS } from '../nodes/runtime/qos.ts';
import type { NodeHandle, Publisher, Subscription } from '../nodes/runtime/transport.ts';
import type { BridgeOutput, LinkStats } from './core/bridge.ts';
import { BridgeLink } from './link.ts';
import type { BridgeParams } from './params.ts';
import { BRIDGE_NODE_NAME, BRIDGE_PARAMS, configFromParams } from './params.ts';
import type { ByteTransport } from './transport.ts';
import { SerialTransport } from './serial.ts';

export interface BridgeNodeOptions {
  readonly node: NodeHandle;
  /** Parameter sources, later ones win (params file, then command-line overrides). */
  readonly parameters?: readonly {
    readonly name: string;
    readonly values: Readonly<Record<string, unknown>>;
  }[];
  /** Defaults to the serial port the parameters name. */
  readonly transport?: (p: BridgeParams) => ByteTransport;
  readonly log?: (line: string) => void;
}

// Pose covariance grows without bound for wheel odometry; these diagonal values tell
// consumers (robot_localization) to trust it for velocity more than for absolute pose.
const POSE_COVARIANCE = diagonal([0.01, 0.01, 1e6, 1e6, 1e6, 0.05]);
const TWIST_COVARIANCE = diagonal([0.002, 1e6, 1e6, 1e6, 1e6, 0.01]);

function diagonal(values: readonly number[]): number[] {
  const m = new Array<number>(36).fill(0);
  values.forEach((v, i) => (m[i * 7] = v));
  return m;
}

export class BridgeNode {
  readonly params: BridgeParams;
  readonly link: BridgeLink;
  readonly #node: NodeHandle;
  readonly #log: (line: string) => void;
  readonly #odom: Publisher<Odometry>;
  readonly #battery: Publisher<BatteryState>;
  readonly #diagnostics: Publisher<{ header: Odometry['header']; status: DiagnosticStatus[] }>;
  readonly #sub: Subscription;
  readonly #cancelDiagnostics: Cancel;
  #lastWarning = '';

  constructor(options: BridgeNodeOptions) {
    this.#node = options.node;
    this.#log = options.log ?? ((line) => console.error(`[${BRIDGE_NODE_NAME}] ${line}`));
    // Validation before anything is opened: a bad parameter must not leave a half-started node.
    this.params = resolveParameters(BRIDGE_NODE_NAME, BRIDGE_PARAMS, options.parameters ?? []);
    // The controller's command timeout, the heartbeat and the reconnect interval are real
    // time on a real serial line; simulated time that pauses or jumps back would stall the
    // heartbeat and let the controller's watchdog stop the motors, or keep stale commands
    // alive. A simulator drives its own vehicle, so the bridge refuses sim time outright.
    if (this.params.use_sim_time)
      throw new ParameterError(
        `${BRIDGE_NODE_NAME}: use_sim_time must be false: the bridge times a real serial link and motor controller in wall-clock time`,
        BRIDGE_NODE_NAME,
        'use_sim_time',
      );
    const config = configFromParams(this.params);
    const p = this.params;
    const transport =
      options.transport?.(p) ??
      new SerialTransport({ path: p.port, baudRate: p.baud, parity: p.parity as 'none' | 'even' | 'odd' });
    this.link = new BridgeLink({
      config,
      transport,
      clock: this.#node.clock,
      reconnectIntervalMs: p.reconnect_interval_ms,
      onOutput: (out) => this.#onOutput(out),
    });
    this.#odom = this.#node.createPublisher('nav_msgs/msg/Odometry', p.odom_topic, QOS_SENSOR_DATA);
    this.#battery = this.#node.createPublisher(
      'sensor_msgs/msg/BatteryState',
      p.battery_topic,
      QOS_SENSOR_DATA,
    );
    this.#diagnostics = this.#node.createPublisher(
      'diagnostic_msgs/msg/DiagnosticArray',
      p.diagnostics_topic,
      QOS_STATUS,
    );
    this.#sub = this.#node.createSubscription('geometry_msgs/msg/Twist', p.cmd_vel_topic, QOS_COMMANDS, (t) =>
      this.link.command(t.linear.x, t.angular.z),
    );
    this.#cancelDiagnostics = this.#node.clock.every(1000, () => this.#publishDiagnostics());
    this.#log(`serial ${transport.description}`);
    this.link.start();
  }

  async shutdown(reason = 'node shut down'): Promise<void> {
    this.#sub.close();
    this.#cancelDiagnostics();
    await this.link.stop(reason);
    this.#publishDiagnostics();
  }

  #stamp(ms: number): Odometry['header'] {
    return { stamp: timeFromMs(ms), frame_id: this.params.odom_frame_id };
  }

  #onOutput(out: Exclude<BridgeOutput, { kind: 'write' }>): void {
    switch (out.kind) {
      case 'state':
        this.#log(`${out.state}: ${out.reason}`);
        return;
      case 'warning':
        this.#lastWarning = out.text;
        this.#log(`warning: ${out.text}`);
        return;
      case 'rejected':
        // A bad frame from the line is dropped and counted; the message says which check failed.
        this.#lastWarning = out.error.message;
        return;
      case 'mcu-status':
        return;
      case 'battery':
        this.#battery.publish(batteryState(this.#stamp(out.atMs), out.volts));
        return;
      case 'odometry': {
        const { x, y, yaw, vx, wz } = out.estimate;
        this.#odom.publish({
          header: this.#stamp(out.atMs),
          child_frame_id: this.params.base_frame_id,
          pose: {
            pose: {
              position: { x, y, z: 0 },
              orientation: { x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) },
            },
            covariance: POSE_COVARIANCE,
          },
          twist: {
            twist: { linear: { x: vx, y: 0, z: 0 }, angular: { x: 0, y: 0, z: wz } },
            covariance: TWIST_COVARIANCE,
          },
        });
        return;
      }
    }
  }

  #publishDiagnostics(): void {
    const now = this.#node.clock.now();
    this.#diagnostics.publish({
      header: { stamp: timeFromMs(now), frame_id: '' },
      status: [linkDiagnostics(this.link.stats(), this.params.port, this.#lastWarning)],
    });
  }
}

export function batteryState(header: BatteryState['header'], volts: number): BatteryState {
  // Only the pack voltage is measured; ROS marks unmeasured quantities with NaN.
  return {
    header,
    voltage: volts,
    temperature: Number.NaN,
    current: Number.NaN,
    charge: Number.NaN,
    capacity: Number.NaN,
    design_capacity: Number.NaN,
    percentage: Number.NaN,
    power_supply_status: 0,
    power_supply_health: 0,
    power_supply_technology: 0,
    present: true,
    cell_voltage: [],
    cell_temperature: [],
    location: '',
    serial_number: '',
  };
}

export function linkDiagnostics(s: LinkStats, port: string, lastWarning: string): DiagnosticStatus {
  const level =
    s.state === 'running'
      ? s.mcu !== undefined && s.mcu.state === 'failsafe'
        ? DiagnosticLevel.WARN
        : DiagnosticLevel.OK
      : DiagnosticLevel.ERROR;
  const ms = (v: number | undefined): string => (v === undefined ? 'n/a' : v.toFixed(2));
  return {
    level,
    name: `${BRIDGE_NODE_NAME}: motor controller link`,
    message: `${s.state}: ${s.reason}`,
    hardware_id: port,
    values: [
      ['state', s.state],
      ['firmware', s.firmware ?? 'n/a'],
      ['frames_rx', String(s.framesRx)],
      ['frames_tx', String(s.framesTx)],
      ['crc_errors', String(s.crcErrors)],
      ['other_frame_errors', String(s.otherErrors)],
      ['resyncs', String(s.resyncs)],
      ['lost_frames', String(s.lostFrames)],
      ['handshakes', String(s.handshakes)],
      ['link_losses', String(s.linkLosses)],
      ['rtt_last_ms', ms(s.rttLastMs)],
      ['rtt_max_ms', ms(s.rttMaxMs)],
      ['mcu_state', s.mcu?.state ?? 'n/a'],
      ['mcu_faults', s.mcu === undefined ? 'n/a' : `0x${s.mcu.faults.toString(16).padStart(4, '0')}`],
      ['mcu_rx_crc_errors', s.mcu === undefined ? 'n/a' : String(s.mcu.rxCrcErrors)],
      ['last_warning', lastWarning],
    ].map(([key, value]) => ({ key: key as string, value: value as string })),
  };
}

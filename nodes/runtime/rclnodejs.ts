// ROS 2 through rclnodejs. Loaded lazily, and only when a ROS 2 environment is sourced: the
// package's native addon is built against that installation, so importing it elsewhere fails.
// Type-checked against rclnodejs's published types; behaves like the embedded bus.
import type * as Rcl from 'rclnodejs';
import { systemClock } from './clock.ts';
import type { MessageTypeName, MessageTypes } from './messages.ts';
import type { QoS } from './qos.ts';
import type { NodeHandle, Publisher, Subscription, Transport } from './transport.ts';

export class Ros2UnavailableError extends Error {
  override readonly name = 'Ros2UnavailableError';
}

/** True when the shell has sourced a ROS 2 setup (what rclnodejs needs to load). */
export function ros2EnvironmentSourced(env: NodeJS.ProcessEnv = process.env): boolean {
  return typeof env['ROS_DISTRO'] === 'string' && typeof env['AMENT_PREFIX_PATH'] === 'string';
}

// Held in a variable so bundlers and the type-checker's module resolution leave it lazy.
const RCLNODEJS = 'rclnodejs';

function toRclQos(rcl: typeof Rcl, qos: QoS): Rcl.QoS {
  const { HistoryPolicy, ReliabilityPolicy } = rcl.QoS;
  // DurabilityPolicy is a non-exported enum in the typings; its values are the rmw constants.
  const durability = (qos.durability === 'transient_local' ? 1 : 2) as Rcl.QoS.DurabilityPolicy;
  return new rcl.QoS(
    HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST,
    qos.depth,
    qos.reliability === 'reliable'
      ? ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_RELIABLE
      : ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT,
    durability,
  );
}

// Message-type names are generated into rclnodejs's typings from the sourced ROS 2 install;
// derive the parameter types from the published Node class instead of naming them.
type RclTypeClass = Parameters<Rcl.Node['createPublisher']>[0];
type RclMessage = Parameters<ReturnType<Rcl.Node['createPublisher']>['publish']>[0];

export class Ros2Transport implements Transport {
  readonly kind = 'ros2' as const;
  readonly #rcl: typeof Rcl;
  readonly #nodes: Rcl.Node[] = [];

  private constructor(rcl: typeof Rcl) {
    this.#rcl = rcl;
  }

  static async create(argv: string[] = []): Promise<Ros2Transport> {
    if (!ros2EnvironmentSourced()) {
      throw new Ros2UnavailableError(
        'no ROS 2 environment is sourced (ROS_DISTRO and AMENT_PREFIX_PATH are unset)',
      );
    }
    let rcl: typeof Rcl;
    try {
      const mod = (await import(RCLNODEJS)) as { default?: typeof Rcl } & typeof Rcl;
      rcl = mod.default ?? mod;
    } catch (error) {
      throw new Ros2UnavailableError(
        'rclnodejs could not load; build it against this ROS 2: npm rebuild rclnodejs --ignore-scripts=false',
        { cause: error },
      );
    }
    await rcl.init(undefined, argv);
    return new Ros2Transport(rcl);
  }

  createNode(name: string): NodeHandle {
    const rcl = this.#rcl;
    const node = rcl.createNode(name);
    this.#nodes.push(node);
    rcl.spin(node);
    const createPublisher = <K extends MessageTypeName>(
      type: K,
      topic: string,
      qos: QoS,
    ): Publisher<MessageTypes[K]> => {
      const pub = node.createPublisher(type as RclTypeClass, topic, {
        qos: toRclQos(rcl, qos),
      });
      return {
        topic,
        publish: (message) => pub.publish(message as unknown as RclMessage),
      };
    };
    const createSubscription = <K extends MessageTypeName>(
      type: K,
      topic: string,
      qos: QoS,
      callback: (message: MessageTypes[K]) => void,
    ): Subscription => {
      const sub = node.createSubscription(
        type as RclTypeClass,
        topic,
        { qos: toRclQos(rcl, qos), enableTypedArray: true },
        (message: unknown) => callback(message as MessageTypes[K]),
      );
      return { topic, close: () => node.destroySubscription(sub) };
    };
    return {
      name,
      clock: systemClock,
      createPublisher,
      createSubscription,
      destroy: () => node.destroy(),
    };
  }

  async shutdown(): Promise<void> {
    for (const node of this.#nodes.splice(0)) node.destroy();
    this.#rcl.shutdown();
  }
}

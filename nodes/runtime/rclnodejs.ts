// ROS 2 through rclnodejs. Loaded lazily, and only when a ROS 2 environment is sourced: the
// package's native addon is built against that installation, so importing it elsewhere fails.
// Type-checked against rclnodejs's published types; behaves like the embedded bus.
import type * as Rcl from 'rclnodejs';
import type { Cancel, Clock, TimeJump } from './clock.ts';
import type { MessageTypeName, MessageTypes } from './messages.ts';
import type { QoS } from './qos.ts';
import type { NodeHandle, NodeOptions, Publisher, Subscription, Transport } from './transport.ts';

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

const nsToMs = (ns: bigint): number => Number(ns) / 1e6;
const msToNs = (ms: number): bigint => BigInt(Math.max(1, Math.round(ms * 1e6)));

/**
 * The node's own ROS clock as the runtime's Clock. rclnodejs's TimeSource makes it follow /clock
 * when the node has use_sim_time (time 0 until the first message), and timers created on the
 * node run on it, so they stop when /clock stops, as rclcpp's do.
 */
function nodeClock(node: Rcl.Node): Clock {
  const ros = node.getClock();
  const now = (): number => nsToMs(ros.now().nanoseconds);
  const timer = (periodMs: number, fn: () => void, once: boolean): Cancel => {
    let cancelled = false;
    const t = node.createTimer(msToNs(periodMs), () => {
      if (cancelled) return;
      if (once) cancel();
      fn();
    });
    const cancel = (): void => {
      if (cancelled) return;
      cancelled = true;
      node.destroyTimer(t);
    };
    return cancel;
  };
  return {
    now,
    get started() {
      return ros.now().nanoseconds !== 0n;
    },
    every: (periodMs, fn) => {
      if (!(periodMs > 0)) throw new RangeError(`timer period must be positive, got ${periodMs}`);
      return timer(periodMs, fn, false);
    },
    after: (delayMs, fn) => timer(delayMs, fn, true),
    onJump: (fn: (jump: TimeJump) => void): Cancel => {
      // Jump callbacks arrive asynchronously (a thread-safe call from rcl): `toMs` is the
      // time when the callback runs, `fromMs` is it minus rcl's delta.
      const backward: Rcl.ClockCallbackObject = {
        _post_callback: (info) => {
          if (info.delta >= 0n) return;
          const toMs = now();
          fn({ kind: 'backward', fromMs: toMs - nsToMs(info.delta), toMs });
        },
      };
      // rcl's thresholds: a negative min_backward reports every backward jump, a zero
      // min_forward none forward; starting is watched with a forward threshold until it happens.
      ros.addClockCallback(backward, false, 0n, -1n);
      let starting: Rcl.ClockCallbackObject | undefined;
      if (now() === 0) {
        starting = {
          _post_callback: (info) => {
            if (starting === undefined || info.delta <= 0n || now() === 0) return;
            const done = starting;
            starting = undefined;
            setImmediate(() => ros.removeClockCallback(done));
            const toMs = now();
            fn({ kind: 'started', fromMs: 0, toMs });
          },
        };
        ros.addClockCallback(starting, false, 1n, 0n);
      }
      return () => {
        ros.removeClockCallback(backward);
        if (starting !== undefined) ros.removeClockCallback(starting);
        starting = undefined;
      };
    },
  };
}

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

  createNode(name: string, options: NodeOptions = {}): NodeHandle {
    const rcl = this.#rcl;
    const nodeOptions = new rcl.NodeOptions();
    // use_sim_time is rclnodejs's own parameter: its TimeSource subscribes to /clock and drives
    // the node clock. ParameterType is a const enum in the typings; 1 is PARAMETER_BOOL.
    nodeOptions.parameterOverrides = [
      new rcl.Parameter('use_sim_time', 1 as Rcl.ParameterType, options.useSimTime === true),
    ];
    const node = rcl.createNode(name, undefined, undefined, nodeOptions);
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
      clock: nodeClock(node),
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

// The one interface nodes are written against. Two transports implement it: the embedded
// in-process bus (default, simulator, `npm start`) and ROS 2 through rclnodejs.
import type { Clock } from './clock.ts';
import type { MessageTypeName, MessageTypes } from './messages.ts';
import type { QoS } from './qos.ts';

export interface Publisher<T> {
  readonly topic: string;
  publish(message: T): void;
}

export interface Subscription {
  readonly topic: string;
  close(): void;
}

export interface NodeHandle {
  readonly name: string;
  readonly clock: Clock;
  createPublisher<K extends MessageTypeName>(type: K, topic: string, qos: QoS): Publisher<MessageTypes[K]>;
  createSubscription<K extends MessageTypeName>(
    type: K,
    topic: string,
    qos: QoS,
    callback: (message: MessageTypes[K]) => void,
  ): Subscription;
  destroy(): void;
}

export interface NodeOptions {
  /**
   * The node clock follows /clock (rosgraph_msgs/Clock) instead of the system clock, as the ROS 2
   * parameter of the same name does: time is 0 and the clock not started until the first message.
   */
  readonly useSimTime?: boolean;
}

export interface Transport {
  readonly kind: 'embedded' | 'ros2';
  createNode(name: string, options?: NodeOptions): NodeHandle;
  shutdown(): Promise<void>;
}

export class TopicTypeError extends Error {
  override readonly name = 'TopicTypeError';
}

// The embedded in-process bus: ROS 2 semantics without ROS 2. Delivery is asynchronous (like
// a middleware), per-subscription queues follow keep-last depth (dropping the oldest), a
// reliable subscription does not match a best-effort publisher (as in DDS), and
// transient-local publishers replay their last messages to late subscribers.
import { systemClock, type Clock } from './clock.ts';
import type { MessageTypeName, MessageTypes } from './messages.ts';
import { QOS_CLOCK, type QoS } from './qos.ts';
import { CLOCK_TOPIC, clockMessageMs, ClockMessageError, SimTimeClock } from './sim-time.ts';
import {
  TopicTypeError,
  type NodeHandle,
  type NodeOptions,
  type Publisher,
  type Subscription,
  type Transport,
} from './transport.ts';

interface SubEntry {
  readonly qos: QoS;
  readonly callback: (message: unknown) => void;
  readonly queue: unknown[];
  dropped: number;
  closed: boolean;
}

interface PubEntry {
  readonly qos: QoS;
  readonly history: unknown[];
}

interface Topic {
  readonly type: MessageTypeName;
  readonly subs: Set<SubEntry>;
  readonly pubs: Set<PubEntry>;
}

export interface TopicStats {
  readonly type: MessageTypeName;
  readonly publishers: number;
  readonly subscriptions: number;
  readonly dropped: number;
}

export class EmbeddedBus implements Transport {
  readonly kind = 'embedded' as const;
  readonly clock: Clock;
  readonly #topics = new Map<string, Topic>();
  readonly #ready = new Set<SubEntry>();
  readonly #taps = new Set<(topic: string, type: MessageTypeName, message: unknown) => void>();
  #scheduled = false;
  #idle: (() => void)[] = [];
  readonly #log: (line: string) => void;

  /** `clock`: the time of nodes without use_sim_time (default the system clock). */
  constructor(options: { clock?: Clock; log?: (line: string) => void } = {}) {
    this.clock = options.clock ?? systemClock;
    this.#log = options.log ?? console.error;
  }

  #topic(name: string, type: MessageTypeName): Topic {
    if (!name.startsWith('/')) throw new TopicTypeError(`topic "${name}" must be absolute (start with /)`);
    let topic = this.#topics.get(name);
    if (topic === undefined) {
      topic = { type, subs: new Set(), pubs: new Set() };
      this.#topics.set(name, topic);
    } else if (topic.type !== type) {
      throw new TopicTypeError(`topic ${name} carries ${topic.type}, not ${type}`);
    }
    return topic;
  }

  createNode(name: string, options: NodeOptions = {}): NodeHandle {
    const owned: (() => void)[] = [];
    const createPublisher = <K extends MessageTypeName>(
      type: K,
      topicName: string,
      qos: QoS,
    ): Publisher<MessageTypes[K]> => {
      const topic = this.#topic(topicName, type);
      const entry: PubEntry = { qos, history: [] };
      topic.pubs.add(entry);
      owned.push(() => topic.pubs.delete(entry));
      return {
        topic: topicName,
        publish: (message) => this.#publish(topicName, topic, entry, message),
      };
    };
    const createSubscription = <K extends MessageTypeName>(
      type: K,
      topicName: string,
      qos: QoS,
      callback: (message: MessageTypes[K]) => void,
    ): Subscription => {
      const topic = this.#topic(topicName, type);
      const entry: SubEntry = {
        qos,
        callback: callback as (m: unknown) => void,
        queue: [],
        dropped: 0,
        closed: false,
      };
      topic.subs.add(entry);
      if (qos.durability === 'transient_local') {
        for (const pub of topic.pubs) {
          if (pub.qos.durability === 'transient_local') for (const m of pub.history) this.#enqueue(entry, m);
        }
      }
      const close = (): void => {
        entry.closed = true;
        topic.subs.delete(entry);
      };
      owned.push(close);
      return { topic: topicName, close };
    };
    let clock = this.clock;
    if (options.useSimTime === true) {
      const sim = new SimTimeClock();
      createSubscription('rosgraph_msgs/msg/Clock', CLOCK_TOPIC, QOS_CLOCK, (message) => {
        try {
          sim.set(clockMessageMs(message));
        } catch (error) {
          // A bad message from a peer is dropped with its reason; the clock keeps its time.
          if (!(error instanceof ClockMessageError)) throw error;
          this.#log(`[${name}] ${error.message}`);
        }
      });
      clock = sim;
    }
    return {
      name,
      clock,
      createPublisher,
      createSubscription,
      destroy: () => {
        for (const undo of owned.splice(0)) undo();
      },
    };
  }

  #publish(name: string, topic: Topic, pub: PubEntry, message: unknown): void {
    if (pub.qos.durability === 'transient_local') {
      pub.history.push(message);
      if (pub.history.length > pub.qos.depth) pub.history.shift();
    }
    for (const tap of this.#taps) tap(name, topic.type, message);
    for (const sub of topic.subs) {
      // DDS matching: a subscription asking for reliable delivery never matches a best-effort publisher.
      if (sub.qos.reliability === 'reliable' && pub.qos.reliability === 'best_effort') continue;
      this.#enqueue(sub, message);
    }
  }

  #enqueue(sub: SubEntry, message: unknown): void {
    sub.queue.push(message);
    if (sub.queue.length > sub.qos.depth) {
      sub.queue.shift();
      sub.dropped += 1;
    }
    this.#ready.add(sub);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  #drain(): void {
    this.#scheduled = false;
    const ready = [...this.#ready];
    this.#ready.clear();
    for (const sub of ready) {
      const batch = sub.queue.splice(0);
      for (const m of batch) if (!sub.closed) sub.callback(m);
    }
    if (this.#ready.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Resolves once every queued message has been delivered (tests and the simulator step on it). */
  flush(): Promise<void> {
    if (this.#ready.size === 0 && !this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Sees every published message (the live view and recorders use it). Returns an untap function. */
  tap(fn: (topic: string, type: MessageTypeName, message: unknown) => void): () => void {
    this.#taps.add(fn);
    return () => this.#taps.delete(fn);
  }

  topics(): ReadonlyMap<string, TopicStats> {
    const out = new Map<string, TopicStats>();
    for (const [name, t] of this.#topics) {
      let dropped = 0;
      for (const s of t.subs) dropped += s.dropped;
      out.set(name, { type: t.type, publishers: t.pubs.size, subscriptions: t.subs.size, dropped });
    }
    return out;
  }

  async shutdown(): Promise<void> {
    await this.flush();
    this.#topics.clear();
    this.#taps.clear();
  }
}

// The simulation's view of the fleet: a listener on the broker, trusted like any silo, that
// collects every silo's model of each round as it is published and keeps their average (the
// silos' average model) and the moment the last of them arrived. It mixes nothing back and
// publishes no model, so it changes nothing the silos do.

import type { WeightSet } from '../../models/src/weights/weight-set.ts';
import { connect } from '../exchange/index.ts';
import type { Encoding, MqttExchange, SiloKeys, TrustedKeys } from '../exchange/index.ts';
import { mixModels } from '../silo/index.ts';

export interface ObservedRound {
  readonly round: number;
  /** Mean of the models of this round that arrived (every tensor, batch-norm statistics included). */
  readonly average: WeightSet;
  /** Silos whose model of this round arrived. */
  readonly silos: readonly string[];
  /** Wall-clock (ms, the observer's clock) when the last of them arrived. */
  readonly atMs: number;
  /** Bytes one update of this round took on the wire (the largest seen). */
  readonly wireBytes: number;
}

export interface ObserverOptions {
  readonly url: string;
  readonly fleet: string;
  readonly ids: readonly string[];
  readonly keys: SiloKeys;
  readonly trusted: TrustedKeys;
  readonly encoding: Encoding;
  readonly log: (line: string) => void;
  /** Milliseconds for arrival times (default performance.now). */
  readonly now?: () => number;
}

export class FleetObserver {
  readonly #exchange: MqttExchange;
  readonly #ids: readonly string[];
  readonly #now: () => number;

  private constructor(exchange: MqttExchange, ids: readonly string[], now: () => number) {
    this.#exchange = exchange;
    this.#ids = ids;
    this.#now = now;
  }

  static async connect(o: ObserverOptions): Promise<FleetObserver> {
    const exchange = await connect({
      url: o.url,
      fleet: o.fleet,
      silo: 'observer',
      keys: o.keys,
      trusted: o.trusted,
      encoding: o.encoding,
      peers: o.ids,
      // Evaluations block this process for seconds while the silos go on; rounds stay held meanwhile.
      heldRounds: 32,
      log: o.log,
    });
    return new FleetObserver(exchange, o.ids, o.now ?? (() => performance.now()));
  }

  /** True once every silo has announced itself online (connected to the broker). */
  allOnline(): boolean {
    return this.#ids.every((id) => this.#exchange.presence(id)?.state === 'online');
  }

  /**
   * Waits for every silo's model of `round`, at most `timeoutMs` for each; undefined when none
   * arrived (the fleet stopped).
   */
  async round(round: number, timeoutMs: number, signal?: AbortSignal): Promise<ObservedRound | undefined> {
    const updates = await Promise.all(
      this.#ids.map((id) => this.#exchange.modelOf(id, round, timeoutMs, signal)),
    );
    const atMs = this.#now();
    const arrived = updates.filter((u) => u !== undefined);
    if (arrived.length === 0) return undefined;
    return {
      round,
      average: mixModels(
        arrived.map((u) => ({ weights: u.weights, weight: 1 / arrived.length })),
        { kind: 'mean' },
      ),
      silos: arrived.map((u) => u.silo),
      atMs,
      wireBytes: Math.max(...arrived.map((u) => u.wireBytes)),
    };
  }

  close(): Promise<void> {
    return this.#exchange.close();
  }
}

// The contract between a silo (fleet/silo) and the weight exchange that carries its models to
// and from its overlay peers (fleet/exchange over MQTT). The silo's round logic sees only this
// interface, so the same silo runs over the embedded broker, mosquitto or a clustered broker.

import type { WeightSet } from '../../models/src/weights/weight-set.ts';

/** How an update's tensors travel: float32, float16, or int8 with one scale per tensor or per output channel. */
export type Encoding = 'f32' | 'f16' | 'int8' | 'int8-channel';

/** A peer's model for one round, after every check passed (signature, signer, replay, names, shapes, values). */
export interface ModelUpdate {
  /** The sending silo's id. */
  readonly silo: string;
  /** The round whose local update this model is (the sender's model after training round `round`). */
  readonly round: number;
  /** The sender's per-update counter; strictly increasing per silo, so a replay is refused. */
  readonly counter: number;
  /** Every tensor of the model, batch-norm running statistics included, decoded to float32. */
  readonly weights: WeightSet;
  readonly encoding: Encoding;
  /** Bytes this update took on the wire (every chunk, headers and signature included). */
  readonly wireBytes: number;
}

/** Why an update was refused; it never reached the model. */
export interface Rejection {
  readonly silo: string | undefined;
  readonly round: number | undefined;
  readonly reason: string;
}

export interface PeerExchange {
  /** This silo's id. */
  readonly silo: string;
  /**
   * Publishes this silo's model of `round` (QoS 1, retained as the silo's newest model so a late
   * or returning peer catches up). Resolves when the broker has acknowledged every chunk.
   */
  publishModel(round: number, weights: WeightSet): Promise<void>;
  /**
   * The verified model `peer` published for exactly `round`: at once when it is already held,
   * otherwise when it arrives; undefined after `timeoutMs` or when `signal` aborts. Models of
   * recent rounds are held per peer (bounded), so a model that travelled in the background
   * during weak rounds is still there when the edge turns strong.
   */
  modelOf(
    peer: string,
    round: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ModelUpdate | undefined>;
  /** The newest verified model held from `peer`, whatever its round. */
  newest(peer: string): ModelUpdate | undefined;
  /** Called for every refused update, with the reason (the exchange also logs it). */
  onRejected(listener: (rejection: Rejection) => void): () => void;
  close(): Promise<void>;
}

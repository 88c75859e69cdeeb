// The live plan over MQTT (mqtt.js): probes peers, publishes this silo's signed measurement row
// retained, receives rows and plan proposals, and gives the silo the plan in force for each
// round. A thin adapter around measure.ts, messages.ts and agreement.ts; topics and rules in
// fleet/exchange/README.md ("Live plan"). It keeps its own MQTT connection, so model chunks
// and probes never queue behind each other in one client.

import { randomBytes } from 'node:crypto';

import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';

import type { ExchangeClock } from '../exchange/inbox.ts';
import type { SiloKeys, TrustedKeys } from '../exchange/keys.ts';
import { checkName, NAME_PATTERN } from '../exchange/topics.ts';
import type { FleetPlan } from '../silo/plan.ts';
import type { PlanSource } from '../silo/silo.ts';
import { DEFAULT_DRIFT, drift, planFromRows, planningOptions, PlanSchedule } from './agreement.ts';
import type { ComputedPlan, DriftThreshold, PlanningOptions } from './agreement.ts';
import { LinkEstimator } from './measure.ts';
import { setHashOf, signProposal, signRow, verifyProposal, verifyRow } from './messages.ts';
import type { MeasurementRow, PlanProposal } from './messages.ts';

export interface LivePlanOptions {
  readonly url: string;
  readonly fleet: string;
  readonly silo: string;
  readonly keys: SiloKeys;
  readonly trusted: TrustedKeys;
  /** The plan before any proposal; its ids are the fleet's silos, every one probed. */
  readonly initial: FleetPlan;
  readonly planning?: Partial<Omit<PlanningOptions, 'ids'>>;
  readonly clock: ExchangeClock;
  /** Time between probe rounds (ms); default 1,000. */
  readonly probeEveryMs?: number;
  /** Padding bytes per probe, carried there and back (throughput); default 16 KiB. */
  readonly probeBytes?: number;
  /** Rounds between proposing and activation: enough for the proposal to reach every silo; default 3. */
  readonly marginRounds?: number;
  readonly drift?: DriftThreshold;
  /** Holds this silo's answer to a peer's probe this long (ms): a slow link, for tests and the simulator. */
  readonly replyDelayMs?: (peer: string) => number;
  readonly log?: (line: string) => void;
}

const probeSchema = z.strictObject({
  v: z.literal(1),
  from: z.string().regex(NAME_PATTERN),
  nonce: z.string().regex(/^[0-9a-f]{16}$/),
  pad: z.string().max(1 << 20),
});
type Probe = z.infer<typeof probeSchema>;

/** A probe not answered within this long is forgotten (the peer may be gone). */
const PROBE_EXPIRY_MS = 10_000;

const base = (fleet: string): string => `fleet/${fleet}/plan`;

export class MqttLivePlan implements PlanSource {
  readonly #o: LivePlanOptions;
  readonly #client: MqttClient;
  readonly #log: (line: string) => void;
  readonly #planning: PlanningOptions;
  readonly #estimator = new LinkEstimator();
  readonly #schedule: PlanSchedule;
  readonly #rows = new Map<string, MeasurementRow>();
  readonly #pending = new Map<string, { peer: string; sentAt: number }>();
  /** Plans already computed, by set hash: every silo proposing from the same set costs one plan. */
  readonly #computed = new Map<string, ComputedPlan>();
  #seq = 0;
  #round = 0;
  #closed = false;
  #cancelProbe: () => void = () => {};

  private constructor(o: LivePlanOptions, client: MqttClient) {
    this.#o = o;
    this.#client = client;
    this.#log = o.log ?? ((line) => console.error(line));
    this.#planning = planningOptions(o.initial.ids, o.planning);
    this.#schedule = new PlanSchedule(o.initial);
  }

  static async connect(o: LivePlanOptions): Promise<MqttLivePlan> {
    checkName('fleet', o.fleet);
    checkName('silo', o.silo);
    if (!o.initial.ids.includes(o.silo)) throw new RangeError(`silo ${o.silo} is not in the initial plan`);
    const client = await mqtt.connectAsync(o.url, {
      clientId: `fadnet-${o.fleet}-${o.silo}-plan`,
      clean: true,
      reconnectPeriod: 1000,
    });
    const live = new MqttLivePlan(o, client);
    client.on('message', (topic, payload) => live.#onMessage(topic, payload));
    client.on('error', (error) => {
      if (!live.#closed) live.#log(`live plan ${o.silo}: ${error.message}`);
    });
    const b = base(o.fleet);
    await client.subscribeAsync(
      [`${b}/ping/${o.silo}`, `${b}/pong/${o.silo}`, `${b}/measurements/+`, `${b}/proposals/+`],
      { qos: 1 },
    );
    live.#probe();
    return live;
  }

  /** The plan in force at `round`; the silo calls this as each round starts, so it may also propose. */
  planFor(round: number): FleetPlan {
    this.#round = round;
    this.#schedule.prune(round);
    this.#maybePropose(round);
    return this.#schedule.planAt(round);
  }

  /** The epoch of the plan in force at `round` (0: the initial plan). */
  epochAt(round: number): number {
    return this.#schedule.entryAt(round)?.proposal.epoch ?? 0;
  }

  /** The proposal in force at `round`, or undefined under the initial plan. */
  proposalAt(round: number): PlanProposal | undefined {
    return this.#schedule.entryAt(round)?.proposal;
  }

  /** The newest proposal held (pending or in force). */
  newestProposal(): PlanProposal | undefined {
    return this.#schedule.newest()?.proposal;
  }

  /** The plan that will be in force last: a pending one if any, else the one in force. */
  newestPlan(): FleetPlan {
    return this.#schedule.newest()?.computed.plan ?? this.#o.initial;
  }

  /** The newest verified row of `silo` (this one's own included, as published). */
  row(silo: string): MeasurementRow | undefined {
    return this.#rows.get(silo);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelProbe();
    await this.#client.endAsync();
  }

  #peers(): string[] {
    return this.#o.initial.ids.filter((p) => p !== this.#o.silo);
  }

  #publish(topic: string, body: unknown, retain: boolean, what: string): void {
    this.#client.publishAsync(topic, JSON.stringify(body), { qos: 1, retain }).catch((error: unknown) => {
      if (!this.#closed)
        this.#log(`live plan ${this.#o.silo}: publishing ${what} failed: ${(error as Error).message}`);
    });
  }

  #probe(): void {
    if (this.#closed) return;
    const { fleet, silo, clock } = this.#o;
    const now = clock.now();
    for (const [nonce, p] of this.#pending) if (now - p.sentAt > PROBE_EXPIRY_MS) this.#pending.delete(nonce);
    const pad = 'x'.repeat(this.#o.probeBytes ?? 16_384);
    for (const peer of this.#peers()) {
      const nonce = randomBytes(8).toString('hex');
      this.#pending.set(nonce, { peer, sentAt: now });
      const probe: Probe = { v: 1, from: silo, nonce, pad };
      this.#publish(`${base(fleet)}/ping/${peer}`, probe, false, `a probe to ${peer}`);
    }
    const links = this.#estimator.links(this.#peers());
    // Only a complete row: the planner needs every pair measured in at least one direction.
    if (links.length === this.#peers().length) {
      this.#seq = Math.max(this.#seq + 1, Math.floor(now));
      const row = signRow({ fleet, silo, seq: this.#seq, links }, this.#o.keys);
      this.#rows.set(silo, row);
      this.#publish(`${base(fleet)}/measurements/${silo}`, row, true, 'the measurement row');
    }
    this.#cancelProbe = clock.after(this.#o.probeEveryMs ?? 1000, () => this.#probe());
  }

  #onMessage(topic: string, payload: Buffer): void {
    if (this.#closed || payload.length === 0) return;
    const parts = topic.split('/');
    const kind = parts[3];
    const silo = parts[4] ?? '';
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      this.#log(`live plan ${this.#o.silo}: refused a ${kind ?? '?'} message on ${topic}: not JSON`);
      return;
    }
    switch (kind) {
      case 'ping':
        return this.#onPing(json);
      case 'pong':
        return this.#onPong(json);
      case 'measurements':
        return this.#onRow(json, silo);
      case 'proposals':
        return this.#onProposal(json, silo);
      default:
        return;
    }
  }

  #onPing(json: unknown): void {
    const probe = probeSchema.safeParse(json);
    if (!probe.success || !this.#o.initial.ids.includes(probe.data.from)) {
      this.#log(`live plan ${this.#o.silo}: refused a malformed probe`);
      return;
    }
    const { from, nonce, pad } = probe.data;
    const answer = (): void => {
      if (this.#closed) return;
      const pong: Probe = { v: 1, from: this.#o.silo, nonce, pad };
      this.#publish(`${base(this.#o.fleet)}/pong/${from}`, pong, false, `a probe answer to ${from}`);
    };
    const delay = this.#o.replyDelayMs?.(from) ?? 0;
    if (delay > 0) this.#o.clock.after(delay, answer);
    else answer();
  }

  #onPong(json: unknown): void {
    const probe = probeSchema.safeParse(json);
    const sent = probe.success ? this.#pending.get(probe.data.nonce) : undefined;
    if (!probe.success || sent === undefined || sent.peer !== probe.data.from) {
      this.#log(`live plan ${this.#o.silo}: refused a probe answer that matches no probe sent`);
      return;
    }
    this.#pending.delete(probe.data.nonce);
    this.#estimator.observe(sent.peer, this.#o.clock.now() - sent.sentAt, probe.data.pad.length);
  }

  #onRow(json: unknown, topicSilo: string): void {
    if (topicSilo === this.#o.silo) return; // our own, echoed back
    const v = verifyRow(json, topicSilo, this.#o.fleet, this.#o.trusted);
    if (!v.ok) {
      this.#log(`live plan ${this.#o.silo}: refused a measurement row: ${v.reason}`);
      return;
    }
    const held = this.#rows.get(topicSilo);
    if (held === undefined || held.seq < v.value.seq) this.#rows.set(topicSilo, v.value);
  }

  #onProposal(json: unknown, topicSilo: string): void {
    const v = verifyProposal(json, topicSilo, this.#o.fleet, this.#o.trusted);
    if (!v.ok) {
      this.#log(`live plan ${this.#o.silo}: refused a plan proposal: ${v.reason}`);
      return;
    }
    const p = v.value;
    let computed: ComputedPlan;
    try {
      computed = this.#plan(p.rows, p.setHash);
    } catch (error) {
      this.#log(
        `live plan ${this.#o.silo}: refused the plan proposal of ${p.silo}: ${(error as Error).message}`,
      );
      return;
    }
    if (computed.hash !== p.planHash) {
      this.#log(
        `live plan ${this.#o.silo}: refused the plan proposal of ${p.silo}: plan hash ${p.planHash}, ` +
          `but its measurements plan to ${computed.hash}`,
      );
      return;
    }
    if (!this.#schedule.add(p, computed)) return;
    const late = p.activationRound <= this.#round ? ` (late: this silo is at round ${this.#round})` : '';
    this.#log(
      `live plan ${this.#o.silo}: plan epoch ${p.epoch} of ${p.silo} from round ${p.activationRound}${late}`,
    );
  }

  #plan(rows: readonly MeasurementRow[], setHash: string): ComputedPlan {
    const held = this.#computed.get(setHash);
    if (held !== undefined) return held;
    const computed = planFromRows(rows, this.#planning);
    if (this.#computed.size >= 16) this.#computed.clear();
    this.#computed.set(setHash, computed);
    return computed;
  }

  #maybePropose(round: number): void {
    const newest = this.#schedule.newest();
    if (newest !== undefined && newest.proposal.activationRound > round) return; // one is pending
    const own = this.#rows.get(this.#o.silo);
    if (own === undefined) return;
    const why = drift(
      own.links,
      newest?.proposal.rows.find((r) => r.silo === this.#o.silo)?.links,
      this.#o.drift ?? DEFAULT_DRIFT,
    );
    if (why === undefined) return;
    const rows = this.#planning.ids.map((s) => this.#rows.get(s));
    if (rows.some((r) => r === undefined)) return; // not every silo has measured yet
    const set = rows as MeasurementRow[];
    const setHash = setHashOf(set);
    let computed: ComputedPlan;
    try {
      computed = this.#plan(set, setHash);
    } catch (error) {
      this.#log(`live plan ${this.#o.silo}: cannot plan from the measurements: ${(error as Error).message}`);
      return;
    }
    this.#seq = Math.max(this.#seq + 1, Math.floor(this.#o.clock.now()));
    const proposal = signProposal(
      {
        fleet: this.#o.fleet,
        silo: this.#o.silo,
        seq: this.#seq,
        epoch: (newest?.proposal.epoch ?? 0) + 1,
        activationRound: round + (this.#o.marginRounds ?? 3),
        rows: set,
        setHash,
        planHash: computed.hash,
      },
      this.#o.keys,
    );
    this.#schedule.add(proposal, computed);
    this.#log(
      `live plan ${this.#o.silo}: delays drifted (${why}); proposing plan epoch ${proposal.epoch} from round ${proposal.activationRound}`,
    );
    this.#publish(`${base(this.#o.fleet)}/proposals/${this.#o.silo}`, proposal, true, 'a plan proposal');
  }
}

export const connectLivePlan = (o: LivePlanOptions): Promise<MqttLivePlan> => MqttLivePlan.connect(o);

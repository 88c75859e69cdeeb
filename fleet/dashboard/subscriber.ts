// The fleet's readers' side of MQTT: one client subscribed to every robot's telemetry, status
// and OTA state and to the live plan's proposals, feeding a FleetView with checked values. A
// bad payload is refused with its reason, logged once per robot and reason (a broken robot at
// 1 Hz must not flood the log), and the view goes on without it.

import mqtt, { type MqttClient } from 'mqtt';

import { BrokerConnectError } from '../exchange/index.ts';
import { checkName } from '../exchange/topics.ts';
import { planFromRows, planningOptions, proposalSchema } from '../live-plan/index.ts';
import type { PlanProposal } from '../live-plan/index.ts';
import { defaultPlan } from '../silo/index.ts';
import {
  otaStateFilter,
  parsePayload,
  parseRobotStatus,
  parseTelemetry,
  parseTelemetryTopic,
  planProposalFilter,
  robotStatusFilter,
  telemetryFilter,
} from '../telemetry/index.ts';
import type { TelemetryRecord } from '../telemetry/index.ts';
import type { FleetView } from './view.ts';

export type FleetEvent =
  | {
      readonly kind: 'telemetry';
      readonly robot: string;
      readonly record: TelemetryRecord;
      readonly receivedAt: number;
    }
  | { readonly kind: 'status' | 'ota'; readonly robot: string }
  | { readonly kind: 'plan'; readonly source: string };

export interface SubscriberOptions {
  readonly url: string;
  readonly view: FleetView;
  /** True when a plan file was given: live proposals are then shown in the log but not drawn. */
  readonly fixedPlan?: boolean;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
  readonly onEvent?: (event: FleetEvent) => void;
  readonly connectTimeoutMs?: number;
}

export class FleetSubscriber {
  readonly #o: SubscriberOptions;
  readonly #client: MqttClient;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  readonly #logged = new Set<string>();
  /** The newest valid proposal per proposing silo (what is retained on the broker). */
  readonly #proposals = new Map<string, PlanProposal>();
  #shownProposal: string | undefined;
  #rejected = 0;
  #received = 0;

  private constructor(o: SubscriberOptions, client: MqttClient) {
    this.#o = o;
    this.#client = client;
    this.#now = o.now ?? Date.now;
    this.#log = o.log ?? ((line) => console.error(line));
  }

  /** Connects and subscribes; throws BrokerConnectError when the broker does not answer. */
  static async connect(o: SubscriberOptions): Promise<FleetSubscriber> {
    const fleet = checkName('fleet', o.view.fleet);
    const client = mqtt.connect(o.url, {
      clientId: `fadnet-dashboard-${fleet}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
    });
    const s = new FleetSubscriber(o, client);
    client.on('message', (topic, payload) => s.#onMessage(topic, payload));
    const filters = [
      telemetryFilter(fleet),
      robotStatusFilter(fleet),
      otaStateFilter(fleet),
      planProposalFilter(fleet),
    ];
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
        setTimeout(
          () => reject(new Error('no answer within the connect timeout')),
          o.connectTimeoutMs ?? 10_000,
        ).unref();
      });
      await client.subscribeAsync(filters, { qos: 1 });
    } catch (error) {
      client.end(true);
      throw new BrokerConnectError(o.url, (error as Error).message, { cause: error });
    }
    // Clean sessions: subscribe again on every reconnect; retained messages bring the view up to date.
    client.on('connect', () => {
      client
        .subscribeAsync(filters, { qos: 1 })
        .catch((error: unknown) => s.#log(`fleet view: ${(error as Error).message}`));
    });
    client.on('offline', () => s.#log(`fleet view: broker ${o.url} unreachable, retrying`));
    return s;
  }

  get stats(): { readonly received: number; readonly rejected: number } {
    return { received: this.#received, rejected: this.#rejected };
  }

  #refuse(robot: string, what: string, reason: string): void {
    this.#rejected++;
    const key = `${robot}\n${what}\n${reason}`;
    if (this.#logged.size < 1000 && !this.#logged.has(key)) {
      this.#logged.add(key);
      this.#log(`fleet view: ${what} of ${robot} refused: ${reason}`);
    }
  }

  #onMessage(topic: string, payload: Buffer): void {
    const receivedAt = this.#now();
    this.#received++;
    const t = parseTelemetryTopic(this.#o.view.fleet, topic);
    const view = this.#o.view;
    switch (t.kind) {
      case 'telemetry': {
        if (payload.length === 0) return;
        const r = parseTelemetry(payload);
        const why = r.ok ? view.telemetry(t.robot, r.value, receivedAt) : r.reason;
        if (why !== undefined) return this.#refuse(t.robot, 'telemetry', why);
        if (r.ok) this.#o.onEvent?.({ kind: 'telemetry', robot: t.robot, record: r.value, receivedAt });
        return;
      }
      case 'status': {
        if (payload.length === 0) return;
        const s = parseRobotStatus(payload);
        const why = s.ok ? view.status(t.robot, s.value, receivedAt) : s.reason;
        if (why !== undefined) return this.#refuse(t.robot, 'status', why);
        this.#o.onEvent?.({ kind: 'status', robot: t.robot });
        return;
      }
      case 'ota': {
        if (payload.length === 0) {
          view.clearOta(t.robot);
        } else {
          let json: unknown;
          try {
            json = JSON.parse(payload.toString('utf8'));
          } catch {
            return this.#refuse(t.robot, 'OTA state', `not JSON (${payload.length} bytes)`);
          }
          const why = view.ota(t.robot, json, receivedAt);
          if (why !== undefined) return this.#refuse(t.robot, 'OTA state', why);
        }
        this.#o.onEvent?.({ kind: 'ota', robot: t.robot });
        return;
      }
      case 'proposal':
        return this.#onProposal(t.robot, payload);
      case 'other':
        return;
    }
  }

  /**
   * Draws the plan of the newest proposal whose activation round has come (the live plan's rule,
   * fleet/live-plan, without the lowest-id tie-break among equal rounds, which only matters
   * while silos still disagree). The dashboard holds no trusted keys: it checks the schema and
   * that the rows give the proposal's plan hash, not the signatures, and says so in the source.
   */
  #onProposal(silo: string, payload: Buffer): void {
    if (payload.length === 0) return;
    const p = parsePayload(proposalSchema, payload);
    if (!p.ok) return this.#refuse(silo, 'plan proposal', p.reason);
    this.#proposals.set(silo, p.value);
    if (this.#o.fixedPlan === true) return;
    this.refreshPlan();
  }

  /** Re-evaluates which proposal is in force at the view's round (call as rounds pass). */
  refreshPlan(): void {
    if (this.#o.fixedPlan === true) return;
    const round = this.#o.view.round();
    // Newest activation first; one whose rows do not give its plan is dropped and the next tried.
    const candidates = [...this.#proposals.values()]
      .filter((p) => p.activationRound <= round)
      .sort((a, b) => b.activationRound - a.activationRound);
    for (const best of candidates) {
      const key = `${best.silo}:${best.seq}`;
      if (key === this.#shownProposal) return;
      try {
        const computed = planFromRows(best.rows, planningOptions(best.rows.map((r) => r.silo)));
        if (computed.hash !== best.planHash) {
          this.#refuse(
            best.silo,
            'plan proposal',
            `its rows give plan ${computed.hash.slice(0, 12)}, it names ${best.planHash.slice(0, 12)}`,
          );
          this.#proposals.delete(best.silo);
          continue;
        }
        this.#shownProposal = key;
        const source = `live plan epoch ${best.epoch} from ${best.silo}, in force from round ${best.activationRound} (signatures not checked here)`;
        this.#o.view.setPlan(computed.plan, source);
        this.#o.onEvent?.({ kind: 'plan', source });
        return;
      } catch (error) {
        this.#refuse(best.silo, 'plan proposal', (error as Error).message);
        this.#proposals.delete(best.silo);
      }
    }
    if (this.#shownProposal === undefined) this.#defaultRing();
  }

  /** Without a plan file or a proposal: the silos' own default, a ring over the robots seen. */
  #defaultRing(): void {
    const ids = this.#o.view.robots().map((r) => r.robot);
    if (ids.length < 2) return;
    const source = `default ring over the ${ids.length} robots seen (no plan file, no live plan)`;
    if (this.#o.view.planSource === source) return;
    this.#o.view.setPlan(defaultPlan(ids), source);
    this.#o.onEvent?.({ kind: 'plan', source });
  }

  async close(): Promise<void> {
    await this.#client.endAsync(true);
  }
}

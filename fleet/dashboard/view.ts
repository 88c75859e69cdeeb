// What the fleet's screens show, as a pure function of the messages received: each robot's
// newest telemetry, its status, its OTA state, a bounded history of latency and loss for the
// plots, and the overlay of the plan in force with each link's state in the fleet's current
// round. `fadnet fleet status` prints its rows, the dashboard serves its snapshot. No I/O: the
// MQTT subscriber feeds it checked values with their receipt times.

import { siloRounds } from '../topology/index.ts';
import type { FleetPlan } from '../silo/index.ts';
import type { RobotStatus, TelemetryRecord } from '../telemetry/index.ts';

/** What the OTA updater said last; its schema is its own, so only these fields are read, as text. */
export interface OtaView {
  readonly state: string | null;
  readonly version: string | null;
}

export interface HistoryPoint {
  readonly at: number;
  readonly p99Ms: number | null;
  readonly loss: number | null;
}

export interface RobotView {
  readonly robot: string;
  /** From the retained status; null before any status was received. */
  readonly online: boolean | null;
  /** Receipt time of the newest message about this robot (ms since the epoch, this machine's clock). */
  readonly lastSeen: number;
  readonly telemetry: TelemetryRecord | null;
  readonly ota: OtaView | null;
  readonly history: readonly HistoryPoint[];
}

export type LinkState = 'strong' | 'weak';

export interface OverlayView {
  /** Where the plan came from: a file, a live proposal, or the default ring. */
  readonly source: string;
  readonly round: number;
  readonly nodes: readonly { readonly id: string; readonly x: number; readonly y: number }[];
  readonly links: readonly { readonly from: string; readonly to: string; readonly state: LinkState }[];
}

export interface DashboardSnapshot {
  readonly fleet: string;
  readonly at: number;
  readonly robots: readonly RobotView[];
  readonly overlay: OverlayView | null;
}

export interface StatusRow {
  readonly robot: string;
  readonly online: boolean | null;
  readonly modelVersion: string | null;
  readonly fps: number | null;
  readonly p99Ms: number | null;
  readonly round: number | null;
  readonly lastSeenAgoS: number;
}

interface Entry {
  online: boolean | null;
  lastSeen: number;
  telemetry: TelemetryRecord | null;
  ota: OtaView | null;
  history: HistoryPoint[];
}

export interface FleetViewOptions {
  readonly fleet: string;
  /** Points kept per robot for the plots (oldest dropped): memory stays bounded however long it runs. */
  readonly historyPoints?: number;
  /** Robots kept at most; messages about further robots are refused (a misbehaving publisher cannot grow memory). */
  readonly maxRobots?: number;
}

export class FleetView {
  readonly fleet: string;
  readonly #historyPoints: number;
  readonly #maxRobots: number;
  readonly #robots = new Map<string, Entry>();
  #plan: { plan: FleetPlan; source: string } | undefined;

  constructor(o: FleetViewOptions) {
    this.fleet = o.fleet;
    this.#historyPoints = o.historyPoints ?? 120;
    this.#maxRobots = o.maxRobots ?? 10_000;
  }

  #entry(robot: string, at: number): Entry | undefined {
    let e = this.#robots.get(robot);
    if (e === undefined) {
      if (this.#robots.size >= this.#maxRobots) return undefined;
      e = { online: null, lastSeen: at, telemetry: null, ota: null, history: [] };
      this.#robots.set(robot, e);
    }
    e.lastSeen = Math.max(e.lastSeen, at);
    return e;
  }

  /** A checked record from `robot`'s topic; returns why it was refused, or undefined. */
  telemetry(robot: string, record: TelemetryRecord, receivedAt: number): string | undefined {
    if (record.robot !== robot) return `record of robot "${record.robot}" on the topic of "${robot}"`;
    if (record.fleet !== this.fleet) return `record of fleet "${record.fleet}" on fleet "${this.fleet}"`;
    const e = this.#entry(robot, receivedAt);
    if (e === undefined) return `more than ${this.#maxRobots} robots`;
    // A retained copy or a replayed buffer may be older than what is shown: the plot stays in order.
    if (e.telemetry !== null && record.at < e.telemetry.at && record.seq !== 0) return undefined;
    e.telemetry = record;
    e.history.push({
      at: record.at,
      p99Ms: record.inference?.latencyP99Ms ?? null,
      loss: record.training?.loss ?? null,
    });
    if (e.history.length > this.#historyPoints) e.history.splice(0, e.history.length - this.#historyPoints);
    return undefined;
  }

  status(robot: string, status: RobotStatus, receivedAt: number): string | undefined {
    if (status.robot !== robot) return `status of robot "${status.robot}" on the topic of "${robot}"`;
    const e = this.#entry(robot, receivedAt);
    if (e === undefined) return `more than ${this.#maxRobots} robots`;
    e.online = status.state === 'online';
    return undefined;
  }

  /** The OTA updater's retained JSON: `state` and `version` when they are strings, nothing else. */
  ota(robot: string, json: unknown, receivedAt: number): string | undefined {
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      return 'OTA state is not a JSON object';
    const o = json as Record<string, unknown>;
    const text = (v: unknown): string | null => (typeof v === 'string' ? v.slice(0, 64) : null);
    const e = this.#entry(robot, receivedAt);
    if (e === undefined) return `more than ${this.#maxRobots} robots`;
    e.ota = { state: text(o.state), version: text(o.version) };
    return undefined;
  }

  /** The OTA updater cleared its retained state (an empty message). */
  clearOta(robot: string): void {
    const e = this.#robots.get(robot);
    if (e !== undefined) e.ota = null;
  }

  setPlan(plan: FleetPlan, source: string): void {
    this.#plan = { plan, source };
  }

  get planSource(): string | undefined {
    return this.#plan?.source;
  }

  /** The fleet's round: the highest round an online robot reported (robots a round behind wait for it). */
  round(): number {
    let round = 0;
    for (const e of this.#robots.values()) {
      const training = e.telemetry?.training;
      if (e.online !== false && training !== undefined && training !== null)
        round = Math.max(round, training.round);
    }
    return round;
  }

  robots(): RobotView[] {
    return [...this.#robots.entries()]
      .sort(([a], [b]) => byName(a, b))
      .map(([robot, e]) => this.robot(robot, e)!);
  }

  robot(robot: string, entry?: Entry): RobotView | undefined {
    const e = entry ?? this.#robots.get(robot);
    if (e === undefined) return undefined;
    return {
      robot,
      online: e.online,
      lastSeen: e.lastSeen,
      telemetry: e.telemetry,
      ota: e.ota,
      history: [...e.history],
    };
  }

  /** The plan in force drawn on a circle in plan order, each arc strong or weak in the current round. */
  overlay(): OverlayView | null {
    if (this.#plan === undefined) return null;
    const { plan, source } = this.#plan;
    const round = this.round();
    const n = plan.ids.length;
    const nodes = plan.ids.map((id, i) => ({
      id,
      x: round6(Math.cos((2 * Math.PI * i) / n - Math.PI / 2)),
      y: round6(Math.sin((2 * Math.PI * i) / n - Math.PI / 2)),
    }));
    const links: { from: string; to: string; state: LinkState }[] = [];
    for (const silo of siloRounds(plan.multigraph, round)) {
      const to = plan.ids[silo.silo]!;
      for (const s of silo.strong) links.push({ from: plan.ids[s.silo]!, to, state: 'strong' });
      for (const w of silo.weak) links.push({ from: plan.ids[w]!, to, state: 'weak' });
    }
    links.sort((a, b) => byName(a.from, b.from) || byName(a.to, b.to));
    return { source, round, nodes, links };
  }

  snapshot(now: number): DashboardSnapshot {
    return { fleet: this.fleet, at: now, robots: this.robots(), overlay: this.overlay() };
  }

  rows(now: number): StatusRow[] {
    return this.robots().map((r) => ({
      robot: r.robot,
      online: r.online,
      modelVersion: r.telemetry?.inference?.modelVersion ?? null,
      fps: r.telemetry?.inference?.fps ?? null,
      p99Ms: r.telemetry?.inference?.latencyP99Ms ?? null,
      round: r.telemetry?.training?.round ?? null,
      lastSeenAgoS: Math.max(0, Math.round((now - r.lastSeen) / 100) / 10),
    }));
  }
}

/** robot-2 before robot-10: ids with numbers sort as people count. */
const byName = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/** The terminal table of `fadnet fleet status`: one line per robot, fixed columns. */
export function statusTable(rows: readonly StatusRow[]): string {
  const head = ['robot', 'online', 'model', 'fps', 'p99 ms', 'round', 'last seen'];
  const body = rows.map((r) => [
    r.robot,
    r.online === null ? '?' : r.online ? 'yes' : 'no',
    r.modelVersion ?? '-',
    r.fps === null ? '-' : r.fps.toFixed(1),
    r.p99Ms === null ? '-' : r.p99Ms.toFixed(2),
    r.round === null ? '-' : String(r.round),
    `${r.lastSeenAgoS.toFixed(1)} s ago`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === 1 || i === 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}

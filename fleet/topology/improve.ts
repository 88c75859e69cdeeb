// Planner improvement over the paper's multigraph(RING): a local search on the ring, staggered
// countdowns, and the choice of t_max (at most the requested one). Every arc keeps one strong
// edge every n(e) <= t_max rounds, multiplicities keep the paper's rule, and by default the
// share of strong arcs per round (how much mixing a round does) may not drop below the
// baseline's, so a faster round never buys itself with less averaging. Pure.
//
// A ring's round time is the mean arc delay, so the simulated cycle time depends only on the
// multiset of ring arcs, not on their order: a candidate ring is scored by changing the two or
// three arcs a move touches and re-simulating one period of the schedule (O(s_max * n)).
// Candidate moves are ranked by a linearisation around the current ring (each arc's average
// cost per round given the current rounds' durations), then checked by that exact score.

import { TopologyInputError } from './errors.ts';
import { roundHalfEven } from '../../common/index.ts';
import { linkDelay } from './fleet.ts';
import type { Fleet } from './fleet.ts';
import { ringFromOrder } from './christofides.ts';
import type { Multigraph } from './multigraph.ts';
import {
  buildMultigraph,
  hasEmptyState,
  lcm,
  multiplicities,
  strongShare,
  withMultiplicities,
} from './multigraph.ts';
import type { Overlay } from './overlays.ts';
import { reportedCycleTime } from './overlays.ts';
import { simulate, simulateSchedule } from './simulate.ts';

export interface ImproveOptions {
  readonly tMax: number;
  readonly rounds: number;
  /** Refuse plans whose share of strong arcs per round is below the baseline's (default true). */
  readonly keepMixing?: boolean;
  /** Upper bound on exact candidate scorings, for very large fleets (default 20,000). */
  readonly maxEvaluations?: number;
}

export interface ImprovedPlan {
  readonly multigraph: Multigraph;
  readonly cycleTimeMs: number;
  readonly ringCycleTimeMs: number;
  readonly strongShare: number;
  readonly baseline: { readonly cycleTimeMs: number; readonly strongShare: number };
  /** False when nothing beat the baseline, which is then returned unchanged. */
  readonly improved: boolean;
  readonly evaluations: number;
}

/** Longest period simulated when scoring; s_max is at most 60 for t_max <= 5. */
const PERIOD_CAP = 2000;
const CANDIDATES_PER_STEP = 48;
const EPS = 1e-9;

interface Move {
  readonly gain: number;
  /** Ring positions whose arcs the move replaces, and the new arcs' endpoints. */
  readonly positions: readonly number[];
  readonly arcs: readonly (readonly [number, number])[];
  readonly apply: (order: readonly number[]) => number[];
}

class RingScorer {
  readonly evaluations = { count: 0 };
  readonly #delay: Float64Array;
  readonly #floor: Float64Array;
  readonly #n: number;
  readonly #tMax: number;

  constructor(fleet: Fleet, tMax: number) {
    const n = fleet.size;
    this.#n = n;
    this.#tMax = tMax;
    this.#delay = new Float64Array(n * n);
    for (let u = 0; u < n; u++) {
      for (let v = 0; v < n; v++) {
        if (u !== v) this.#delay[u * n + v] = (linkDelay(fleet, u, v) + linkDelay(fleet, v, u)) / 2;
      }
    }
    this.#floor = fleet.computeMs;
  }

  delay(u: number, v: number): number {
    return this.#delay[u * this.#n + v] ?? 0;
  }

  floor(u: number): number {
    return this.#floor[u] ?? 0;
  }

  ringArcs(order: readonly number[]): { delay: Float64Array; floor: Float64Array } {
    const next = (i: number): number => order[(i + 1) % order.length] ?? 0;
    return {
      delay: Float64Array.from(order, (u, i) => this.delay(u, next(i))),
      floor: Float64Array.from(order, (u) => this.floor(u)),
    };
  }

  /** Steady-state mean round time: one period to settle, then one period (>= 60 rounds) measured. */
  score(
    delay: Float64Array,
    floor: Float64Array,
    phase?: Int32Array,
  ): { value: number; taus: Float64Array; window: number } {
    this.evaluations.count++;
    const multiplicity = multiplicities(delay, this.#tMax);
    const stateCount = lcm(multiplicity);
    const period = Math.min(stateCount, PERIOD_CAP);
    const window = Math.max(period, 60);
    const taus = simulateSchedule(
      {
        fullMs: delay,
        floorMs: floor,
        multiplicity,
        phase: phase ?? new Int32Array(delay.length),
        stateCount,
      },
      period + window,
      null,
    );
    let sum = 0;
    for (let k = period; k < period + window; k++) sum += taus[k] ?? 0;
    return { value: sum / window, taus: taus.subarray(period), window };
  }
}

/** Average cost per round of every pair as a ring arc, given the current rounds' durations. */
function linearisedCosts(
  scorer: RingScorer,
  size: number,
  tMax: number,
  dMin: number,
  taus: Float64Array,
  window: number,
): Float64Array {
  // banked[n]: for each strong round of an arc of multiplicity n, the time its n - 1 weak
  // rounds lasted (phase 0, as the ring search leaves every phase at 0).
  const banked: number[][] = [[], []];
  for (let n = 2; n <= tMax; n++) {
    const list: number[] = [];
    for (let k = n - 1; k < window; k++) {
      if (k % n !== 0) continue;
      let b = 0;
      for (let j = 1; j < n; j++) b += taus[k - j] ?? 0;
      list.push(b);
    }
    banked.push(list);
  }
  const cost = new Float64Array(size * size);
  for (let u = 0; u < size; u++) {
    for (let v = 0; v < size; v++) {
      if (u === v) continue;
      const d = scorer.delay(u, v);
      const n = Math.max(1, Math.min(tMax, roundHalfEven(d / dMin)));
      const list = banked[n] ?? [];
      if (n === 1 || list.length === 0) {
        cost[u * size + v] = d;
        continue;
      }
      let sum = 0;
      for (const b of list) sum += Math.max(scorer.floor(u), d - b);
      cost[u * size + v] = (sum / list.length) * (1 / n);
    }
  }
  return cost;
}

/** Keeps the `limit` best (kind, i, j) by gain, in order, first come first served on ties. */
class TopMoves {
  readonly #limit: number;
  readonly #items: { gain: number; kind: number; i: number; j: number }[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  offer(gain: number, kind: number, i: number, j: number): void {
    const items = this.#items;
    if (items.length === this.#limit && gain <= (items[items.length - 1]?.gain ?? -Infinity)) return;
    let at = items.length;
    while (at > 0 && (items[at - 1]?.gain ?? 0) < gain) at--;
    items.splice(at, 0, { gain, kind, i, j });
    if (items.length > this.#limit) items.pop();
  }

  get items(): readonly { gain: number; kind: number; i: number; j: number }[] {
    return this.#items;
  }
}

const TWO_OPT = 0;

/**
 * The best moves by linearised gain among 2-opt (reverse order[i+1..j]) and or-opt (move the
 * segment of `length` silos at i to after position j, length 1..3) whose strong share, at the
 * current d_min, stays at least `minShare`. Scanned without allocating: O(n^2) per step.
 */
function bestMoves(
  order: readonly number[],
  cost: Float64Array,
  inverse: (u: number, v: number) => number,
  share: number,
  minShare: number,
): Move[] {
  const n = order.length;
  const at = (i: number): number => order[((i % n) + n) % n] ?? 0;
  const c = (u: number, v: number): number => cost[u * n + v] ?? 0;
  const feasible = (shareGain: number): boolean => share + shareGain / n >= minShare - EPS;
  const top = new TopMoves(CANDIDATES_PER_STEP);
  for (let i = 0; i < n - 1; i++) {
    const [a, b] = [at(i), at(i + 1)];
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue;
      const [x, y] = [at(j), at(j + 1)];
      const gain = c(a, b) + c(x, y) - c(a, x) - c(b, y);
      if (feasible(inverse(a, x) + inverse(b, y) - inverse(a, b) - inverse(x, y)))
        top.offer(gain, TWO_OPT, i, j);
    }
  }
  for (let length = 1; length <= 3 && length < n - 2; length++) {
    for (let i = 1; i + length <= n; i++) {
      const [p, s0, s1, nx] = [at(i - 1), at(i), at(i + length - 1), at(i + length)];
      const removed = c(p, s0) + c(s1, nx) - c(p, nx);
      const removedShare = inverse(p, s0) + inverse(s1, nx) - inverse(p, nx);
      for (let j = 0; j < n; j++) {
        if (j >= i - 1 && j <= i + length - 1) continue;
        const [a, b] = [at(j), at(j + 1)];
        const gain = removed - (c(a, s0) + c(s1, b) - c(a, b));
        if (feasible(inverse(a, s0) + inverse(s1, b) - inverse(a, b) - removedShare))
          top.offer(gain, length, i, j);
      }
    }
  }
  return top.items.map(({ gain, kind, i, j }) => {
    if (kind === TWO_OPT) {
      return {
        gain,
        positions: [i, j],
        arcs: [
          [at(i), at(j)],
          [at(i + 1), at(j + 1)],
        ],
        apply: (o) => [...o.slice(0, i + 1), ...o.slice(i + 1, j + 1).reverse(), ...o.slice(j + 1)],
      };
    }
    const length = kind;
    const [p, s0, s1, nx, a, b] = [at(i - 1), at(i), at(i + length - 1), at(i + length), at(j), at(j + 1)];
    return {
      gain,
      positions: [i - 1, i + length - 1, j],
      arcs: [
        [p, nx],
        [a, s0],
        [s1, b],
      ],
      apply: (o) => {
        const segment = o.slice(i, i + length);
        const rest = [...o.slice(0, i), ...o.slice(i + length)];
        const where = rest.indexOf(a);
        return [...rest.slice(0, where + 1), ...segment, ...rest.slice(where + 1)];
      },
    };
  });
}

function searchRing(
  scorer: RingScorer,
  start: readonly number[],
  tMax: number,
  minShare: number,
  maxEvaluations: number,
): number[] {
  const n = start.length;
  let order = [...start];
  let arcs = scorer.ringArcs(order);
  let current = scorer.score(arcs.delay, arcs.floor);
  while (scorer.evaluations.count < maxEvaluations) {
    const dMin = Math.min(...arcs.delay);
    const cost = linearisedCosts(scorer, n, tMax, dMin, current.taus, current.window);
    const inverse = (u: number, v: number): number =>
      1 / Math.max(1, Math.min(tMax, roundHalfEven(scorer.delay(u, v) / dMin)));
    const share = strongShare(multiplicities(arcs.delay, tMax));
    let accepted = false;
    for (const move of bestMoves(order, cost, inverse, share, minShare)) {
      const delay = arcs.delay.slice();
      const floor = arcs.floor.slice();
      move.positions.forEach((position, k) => {
        const [u, v] = move.arcs[k] ?? [0, 0];
        delay[position] = scorer.delay(u, v);
        floor[position] = scorer.floor(u);
      });
      if (strongShare(multiplicities(delay, tMax)) < minShare - EPS) continue;
      const candidate = scorer.score(delay, floor);
      if (candidate.value < current.value - EPS) {
        order = move.apply(order);
        arcs = scorer.ringArcs(order);
        current = scorer.score(arcs.delay, arcs.floor);
        accepted = true;
        break;
      }
      if (scorer.evaluations.count >= maxEvaluations) break;
    }
    if (!accepted) break;
  }
  return order;
}

/** Coordinate descent on the phase of every arc with n > 1 (a few passes). */
function searchPhases(
  scorer: RingScorer,
  order: readonly number[],
  tMax: number,
  maxEvaluations: number,
): Int32Array {
  const { delay, floor } = scorer.ringArcs(order);
  const multiplicity = multiplicities(delay, tMax);
  const phase = new Int32Array(order.length);
  let best = scorer.score(delay, floor, phase).value;
  for (let pass = 0; pass < 3; pass++) {
    let changed = false;
    for (let e = 0; e < order.length; e++) {
      const n = multiplicity[e] ?? 1;
      const keep = phase[e] ?? 0;
      let bestPhase = keep;
      for (let p = 0; p < n && scorer.evaluations.count < maxEvaluations; p++) {
        if (p === keep) continue;
        phase[e] = p;
        const value = scorer.score(delay, floor, phase).value;
        if (value < best - EPS) {
          best = value;
          bestPhase = p;
          changed = true;
        }
      }
      phase[e] = bestPhase;
    }
    if (!changed) break;
  }
  return phase;
}

export function improveMultigraph(fleet: Fleet, ring: Overlay, options: ImproveOptions): ImprovedPlan {
  const { tMax, rounds } = options;
  const keepMixing = options.keepMixing ?? true;
  const maxEvaluations = options.maxEvaluations ?? 20_000;
  if (ring.kind !== 'ring' || ring.order === undefined) {
    throw new TopologyInputError(`the improvement searches rings, got a ${ring.kind} overlay`);
  }
  const baselineGraph = buildMultigraph(fleet, ring, tMax);
  const baseline = {
    cycleTimeMs: simulate(fleet, baselineGraph, rounds).meanMs,
    strongShare: strongShare(baselineGraph.multiplicity),
  };
  const minShare = keepMixing ? baseline.strongShare : 0;
  const scorer = new RingScorer(fleet, tMax);
  const order = searchRing(scorer, ring.order, tMax, minShare, maxEvaluations);
  const overlay = ringFromOrder(order);

  let best: { multigraph: Multigraph; cycleTimeMs: number } = { multigraph: baselineGraph, ...baseline };
  for (let t = tMax; t >= 1; t--) {
    const tScorer = new RingScorer(fleet, t);
    const phase = searchPhases(tScorer, order, t, maxEvaluations);
    scorer.evaluations.count += tScorer.evaluations.count;
    const plain = buildMultigraph(fleet, overlay, t);
    // The search scored the symmetrised delays; with asymmetric measurements an arc's real n
    // can be smaller, so its phase is taken modulo n.
    const phases = phase.map((p, e) => p % (plain.multiplicity[e] ?? 1));
    const multigraph = withMultiplicities(overlay, plain.baseDelayMs, plain.multiplicity, t, phases);
    if (hasEmptyState(multigraph) || strongShare(multigraph.multiplicity) < minShare - EPS) continue;
    const cycleTimeMs = simulate(fleet, multigraph, rounds).meanMs;
    if (cycleTimeMs < best.cycleTimeMs - EPS) best = { multigraph, cycleTimeMs };
  }
  const improved = best.multigraph !== baselineGraph;
  return {
    multigraph: best.multigraph,
    cycleTimeMs: best.cycleTimeMs,
    ringCycleTimeMs: reportedCycleTime(fleet, best.multigraph.overlay),
    strongShare: strongShare(best.multigraph.multiplicity),
    baseline,
    improved,
    evaluations: scorer.evaluations.count,
  };
}

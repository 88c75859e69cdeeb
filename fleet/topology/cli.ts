// `fadnet topology`: plan overlays and the multigraph for a network file, measurements or a
// synthetic network, and print cycle times. Thin: options in, planner, report out.

import { parseArgs } from 'node:util';

import { connectivityFromNetwork } from './connectivity.ts';
import { TopologyInputError } from './errors.ts';
import { readMeasurementsFile, readNetworkFile, writeTextFile } from './files.ts';
import {
  DEFAULT_ACCESS_BPS,
  DEFAULT_T_MAX,
  fleetFromConnectivity,
  isProfileName,
  PROFILES,
} from './fleet.ts';
import type { Fleet, Workload } from './fleet.ts';
import { fleetFromMeasurements } from './measurements.ts';
import { isolatedSilos } from './multigraph.ts';
import { isOverlayName, OVERLAY_NAMES, planTopology } from './planner.ts';
import type { OverlayName, TopologyPlan } from './planner.ts';
import { explainLines, reportJson, reportText } from './report.ts';
import { renderPlanSvg } from './svg.ts';
import { syntheticNetwork } from './synthetic.ts';

const USAGE = `usage: fadnet topology (--network FILE.gml | --measurements FILE.json | --synthetic N [--seed S])
                       --profile ${Object.keys(PROFILES).join('|')}
                       [--model-bits B] [--compute-ms T] [--rounds R] [--uplink BPS] [--downlink BPS] [--t-max K]
                       [--overlay star|mst|delta-mbst|ring|multigraph|all] [--json] [--explain]
                       [--improve [--allow-less-mixing]] [--svg FILE [--state S]] [--plan-out FILE [--ids ID,ID,..]]
       fadnet topology --bench [--network ebone.gml]

Cycle times (ms, one decimal) of the overlays and of the multigraph built on the ring.
--improve also searches a better multigraph (ring local search, staggered countdowns,
t_max <= K) that keeps a strong edge on every ring link at least every t_max rounds and,
unless --allow-less-mixing, at least the baseline's share of strong links per round.
--plan-out writes the multigraph (the improved one when planned) as the plan file silos follow
(fadnet silo --plan), naming silo i by the i-th of --ids or else by the network's names.`;

const OPTIONS = {
  network: { type: 'string' },
  measurements: { type: 'string' },
  synthetic: { type: 'string' },
  seed: { type: 'string' },
  profile: { type: 'string' },
  'model-bits': { type: 'string' },
  'compute-ms': { type: 'string' },
  rounds: { type: 'string' },
  uplink: { type: 'string' },
  downlink: { type: 'string' },
  't-max': { type: 'string' },
  overlay: { type: 'string' },
  json: { type: 'boolean' },
  explain: { type: 'boolean' },
  improve: { type: 'boolean' },
  'allow-less-mixing': { type: 'boolean' },
  svg: { type: 'string' },
  'plan-out': { type: 'string' },
  ids: { type: 'string' },
  state: { type: 'string' },
  bench: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

function number(values: Values, key: keyof Values, fallback: number, integer = false): number {
  const text = values[key];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (
    typeof text !== 'string' ||
    text.trim() === '' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value))
  ) {
    throw new TopologyInputError(
      `--${key} must be ${integer ? 'an integer' : 'a number'}, got "${String(text)}"`,
    );
  }
  return value;
}

async function loadFleet(values: Values, workload: Workload): Promise<Fleet> {
  const sources = [values.network, values.measurements, values.synthetic].filter((v) => v !== undefined);
  if (sources.length !== 1) {
    throw new TopologyInputError('give exactly one of --network, --measurements, --synthetic');
  }
  if (values.measurements !== undefined) {
    return fleetFromMeasurements(await readMeasurementsFile(values.measurements), workload);
  }
  const network =
    values.network !== undefined
      ? await readNetworkFile(values.network)
      : syntheticNetwork({
          silos: number(values, 'synthetic', 0, true),
          seed: number(values, 'seed', 1, true),
        });
  return fleetFromConnectivity(connectivityFromNetwork(network), workload);
}

function overlaysOf(values: Values): OverlayName[] {
  const requested = values.overlay ?? 'all';
  if (requested === 'all') return [...OVERLAY_NAMES];
  if (!isOverlayName(requested)) {
    throw new TopologyInputError(
      `--overlay must be one of ${OVERLAY_NAMES.join(', ')} or all, got "${requested}"`,
    );
  }
  return [requested];
}

async function writePicture(
  values: Values,
  plan: TopologyPlan,
  requested: readonly OverlayName[],
  path: string,
): Promise<void> {
  const multigraph = plan.improved?.multigraph ?? plan.multigraph?.multigraph;
  if (multigraph === undefined) throw new TopologyInputError('--svg needs the multigraph');
  const single = requested.length === 1 ? requested[0] : undefined;
  // The left panel: the one overlay asked for, else the ring whose state the right panel shows.
  const improvedRing =
    plan.improved === null
      ? null
      : { overlay: plan.improved.multigraph.overlay, cycleTimeMs: plan.improved.ringCycleTimeMs };
  const tree =
    single === 'star'
      ? plan.star
      : single === 'mst'
        ? plan.mst
        : single === 'delta-mbst'
          ? plan.deltaMbst
          : null;
  const shown = tree ?? improvedRing ?? plan.ring;
  if (shown === null) throw new TopologyInputError('--svg needs an overlay');
  let state = number(values, 'state', -1, true);
  if (state < 0) {
    // The state with the most isolated silos shows the method best.
    let most = -1;
    for (let s = 0; s < Math.min(multigraph.stateCount, 5000); s++) {
      const count = isolatedSilos(multigraph, s).length;
      if (count > most) [most, state] = [count, s];
    }
  }
  if (state >= multigraph.stateCount) {
    throw new TopologyInputError(`--state must be below s_max = ${multigraph.stateCount}, got ${state}`);
  }
  const title = `${shown.overlay.kind.toUpperCase()} overlay: ${shown.cycleTimeMs.toFixed(1)} ms`;
  await writeTextFile(
    path,
    renderPlanSvg({ fleet: plan.fleet, overlay: shown.overlay, overlayTitle: title, multigraph, state }),
  );
}

/** The plan file silos read; parsed back before writing, so ids unusable by a silo fail here. */
async function writePlan(plan: TopologyPlan, file: string, ids: string | undefined): Promise<void> {
  const { parsePlan, planFileFromTopology } = await import('../silo/plan.ts');
  const json = planFileFromTopology(plan, ids === undefined ? plan.fleet.names : ids.split(','));
  parsePlan(json, file);
  await writeTextFile(file, `${JSON.stringify(json, null, 2)}\n`);
}

export async function topologyCommand(args: string[]): Promise<number> {
  let values: Values;
  try {
    values = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  if (values.bench === true) {
    const { runBench } = await import('./bench.ts');
    for (const line of await runBench(values.network === undefined ? {} : { networkPath: values.network })) {
      console.log(line);
    }
    return 0;
  }
  const profileName = values.profile;
  if (profileName === undefined || !isProfileName(profileName)) {
    console.error(`--profile must be one of ${Object.keys(PROFILES).join(', ')}\n\n${USAGE}`);
    return 2;
  }
  const profile = PROFILES[profileName];
  const workload: Workload = {
    modelBits: number(values, 'model-bits', profile.modelBits),
    computeMs: number(values, 'compute-ms', profile.computeMs),
    uplinkBps: number(values, 'uplink', DEFAULT_ACCESS_BPS),
    downlinkBps: number(values, 'downlink', DEFAULT_ACCESS_BPS),
  };
  const fleet = await loadFleet(values, workload);
  const overlays = overlaysOf(values);
  const picture = values.svg;
  const improve = values.improve === true ? { keepMixing: values['allow-less-mixing'] !== true } : false;
  const plan = planTopology(fleet, {
    overlays:
      picture === undefined && values['plan-out'] === undefined
        ? overlays
        : [...new Set<OverlayName>([...overlays, 'multigraph'])],
    tMax: number(values, 't-max', DEFAULT_T_MAX, true),
    rounds: number(values, 'rounds', profile.rounds, true),
    improve,
  });
  const shown: TopologyPlan = { ...plan, options: { ...plan.options, overlays } };
  const reported = overlays.includes('multigraph') ? shown : { ...shown, multigraph: null };
  if (values.json === true) {
    const json: Record<string, unknown> = reportJson(reported);
    if (values.explain === true) json['explain'] = explainLines(reported);
    console.log(JSON.stringify(json));
  } else {
    for (const line of reportText(reported)) console.log(line);
    if (values.explain === true) for (const line of explainLines(reported)) console.log(line);
  }
  if (picture !== undefined) await writePicture(values, plan, overlays, picture);
  if (values['plan-out'] !== undefined) await writePlan(plan, values['plan-out'], values.ids);
  return 0;
}

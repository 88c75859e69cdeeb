// `fadnet fleet sim`: a whole fleet of silo processes on this machine. Thin: flags in,
// runFleetSim, a progress bar on stderr, a summary (or one JSON line) on stdout and the PNG.
// The simulator comes in as sources from bin/.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  choiceArg,
  ensureDir,
  numberArg,
  parseCommandArgs,
  progressBar,
  UsageError,
} from '../../common/index.ts';
import { weightsToSafetensors } from '../../models/src/weights/weight-set.ts';
import { terminationSignal } from '../../nodes/runtime/signals.ts';
import { ENCODINGS } from '../exchange/index.ts';
import { PROFILES, readNetworkFile } from '../topology/index.ts';
import type { ProfileName } from '../topology/index.ts';
import { pngFromSvg, rmseChartSvg } from './plot.ts';
import { runFleetSim, type FleetSimResult, type FleetSimSources } from './run.ts';
import { SIM_TOPOLOGIES } from './scenario.ts';

const USAGE = `usage: fadnet fleet sim [--silos N] [--topology ${SIM_TOPOLOGIES.join('|')}] [--rounds R]
                       [--network FILE.gml [--profile P] [--delay-scale X]] [--encoding ${ENCODINGS.join('|')}]
                       [--broker URL] [--compare-cll] [--json] [--samples S] [--eval-samples E] [--batch B]
                       [--local-steps U] [--lr X] [--seed S] [--eval-every K] [--timeout-ms T]
                       [--randomise-appearance N] [--png FILE] [--state DIR] [--save-average FILE]

Runs N silo processes (\`fadnet silo\`), silo i training on training world i of the simulator
(non-IID), against the embedded MQTT broker or --broker. Every K rounds and at the end it
evaluates the silos' average model on the held-out world and prints the RMSE, the wall-clock
per round and the bytes each silo sent. With --network, each peer's model reaches a silo the
overlay link's delay later (latency + transfer time of the --profile's model, multigraph.md 2,
without the compute term, times --delay-scale). --compare-cll also trains one model on the
union of the silos' data with the same steps. --randomise-appearance N re-dresses each silo's
world with a random look every N samples (floor, markings, walls, lighting; the layout and the
labels unchanged), as \`fadnet train --randomise-appearance\` does; the held-out world is always
evaluated as it looks. --save-average writes the final average model as safetensors
(\`fadnet export --weights FILE\` makes it a model package). --json prints one line on stdout.`;

const OPTIONS = {
  silos: { type: 'string', default: '4' },
  topology: { type: 'string', default: 'ring' },
  rounds: { type: 'string', default: '40' },
  network: { type: 'string' },
  profile: { type: 'string', default: 'fadnet-gazebo' },
  'delay-scale': { type: 'string', default: '1' },
  encoding: { type: 'string', default: 'f16' },
  broker: { type: 'string' },
  'compare-cll': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  samples: { type: 'string', default: '32' },
  'randomise-appearance': { type: 'string', default: '0' },
  'eval-samples': { type: 'string', default: '32' },
  batch: { type: 'string', default: '8' },
  'local-steps': { type: 'string', default: '1' },
  lr: { type: 'string', default: '0.001' },
  seed: { type: 'string', default: '0' },
  'eval-every': { type: 'string', default: '5' },
  'timeout-ms': { type: 'string', default: '120000' },
  png: { type: 'string' },
  state: { type: 'string' },
  'save-average': { type: 'string' },
} as const;

function summary(r: FleetSimResult): string {
  const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
  return [
    `fleet sim: ${r.silos} silos, ${r.topology}, ${r.rounds} rounds, ${r.encoding}` +
      (r.network === null ? '' : ` on ${r.network} (delays x${r.delay_scale})`),
    `  held-out RMSE (${r.eval_world}, ${r.eval_samples} samples) of the average model: ${r.final_rmse.toFixed(4)}` +
      (r.cll_rmse === undefined ? '' : `; centralised ${r.cll_rmse.toFixed(4)}`),
    `  wall-clock ${r.wall_s.toFixed(1)} s, ${r.wall_per_round_s.toFixed(2)} s per round`,
    `  one update ${kib(r.bytes_per_exchange)}; sent per silo ${r.bytes_sent_per_silo.map(kib).join(', ')}`,
  ].join('\n');
}

async function simCommand(args: string[], sources: FleetSimSources): Promise<number> {
  const parsed = parseCommandArgs(args, OPTIONS);
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const v = parsed.values;
  const topology = choiceArg('--topology', v.topology, SIM_TOPOLOGIES);
  const encoding = choiceArg('--encoding', v.encoding, ENCODINGS);
  const profile = choiceArg('--profile', v.profile, Object.keys(PROFILES) as ProfileName[]);
  const rounds = numberArg('--rounds', v.rounds, { integer: true, min: 1 });
  const network =
    v.network === undefined
      ? undefined
      : { name: path.basename(v.network, '.gml'), graph: await readNetworkFile(v.network) };
  const state = v.state ?? (await mkdtemp(path.join(tmpdir(), 'fadnet-fleet-sim-')));
  const png = v.png ?? path.join('out', `fleet-sim-${topology}.png`);
  // SIGINT or SIGTERM ends the run: every silo process is killed and the broker closed.
  const stop = new AbortController();
  void terminationSignal().then(() => stop.abort());
  const bar = progressBar('fleet sim [{bar}] round {value}/{total} | held-out RMSE {rmse}');
  bar.start(rounds, 0, { rmse: '-' });
  let result: FleetSimResult;
  try {
    result = await runFleetSim(
      {
        silos: numberArg('--silos', v.silos, { integer: true, min: 2, max: 64 }),
        topology,
        rounds,
        ...(network === undefined ? {} : { network }),
        profile,
        delayScale: numberArg('--delay-scale', v['delay-scale'], { min: 0 }),
        encoding,
        ...(v.broker === undefined ? {} : { brokerUrl: v.broker }),
        compareCll: v['compare-cll'],
        samples: numberArg('--samples', v.samples, { integer: true, min: 1 }),
        randomiseAppearance: numberArg('--randomise-appearance', v['randomise-appearance'], {
          integer: true,
          min: 0,
        }),
        evalSamples: numberArg('--eval-samples', v['eval-samples'], { integer: true, min: 1 }),
        batch: numberArg('--batch', v.batch, { integer: true, min: 1, max: 1024 }),
        localSteps: numberArg('--local-steps', v['local-steps'], { integer: true, min: 1 }),
        lr: numberArg('--lr', v.lr, { above: 0, max: 1 }),
        seed: numberArg('--seed', v.seed, { integer: true, min: 0 }),
        evalEvery: numberArg('--eval-every', v['eval-every'], { integer: true, min: 1 }),
        peerTimeoutMs: numberArg('--timeout-ms', v['timeout-ms'], { min: 0 }),
        stateDir: state,
        log: (line) => process.stderr.write(`${line}\n`),
        onRound: (round, rmse) => bar.update(round, rmse === undefined ? {} : { rmse: rmse.toFixed(4) }),
      },
      sources,
      stop.signal,
    );
  } finally {
    bar.stop();
    if (v.state === undefined) await rm(state, { recursive: true, force: true });
  }
  await ensureDir(path.dirname(png));
  const label = `${result.topology}, ${result.silos} silos${result.network === null ? '' : `, ${result.network}`}`;
  await pngFromSvg(rmseChartSvg(`fleet sim: ${label}`, [{ label, points: result.curve }]), png);
  if (v['save-average'] !== undefined) {
    await writeFile(v['save-average'], weightsToSafetensors(result.average));
  }
  if (v.json) {
    const { average: _average, curve, ...rest } = result;
    console.log(JSON.stringify({ ...rest, curve, png }));
  } else {
    console.log(`${summary(result)}\n  plot ${png}`);
  }
  return 0;
}

/** `fadnet fleet sim` (bin/ sends `fadnet fleet keygen` to fleet/exchange before loading the simulator). */
export async function fleetCommand(args: string[], sources: FleetSimSources): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'sim') return simCommand(rest, sources);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(USAGE);
    return 0;
  }
  throw new UsageError(`unknown fleet subcommand "${sub}"; the subcommands are sim and keygen`);
}

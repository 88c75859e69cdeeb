// `fadnet silo`: one robot's silo as a command. Thin: flags in, plan and data set built, runSilo.
// The simulator is not imported here (a library folder never imports sim/): bin/ injects the
// loader for --sim-world.

import { numberArg, parseCommandArgs, UsageError } from '../../common/index.ts';
import { FADNET_INPUT_SPEC } from '../../models/src/input-spec.ts';
import type { TrainingDataset } from '../../models/src/train/dataset.ts';
import { syntheticDataset } from '../../models/src/train/dataset.ts';
import { terminationSignal } from '../../nodes/runtime/signals.ts';
import { ENCODINGS } from '../exchange/index.ts';
import type { Encoding } from '../exchange/index.ts';
import { mcapFilesIn, readPlanFile } from './adapters.ts';
import { parseMixRule } from './mixing.ts';
import { DEFAULT_NICE } from './params.ts';
import { defaultPlan } from './plan.ts';
import { roundLine, runSilo } from './run.ts';

export interface SiloDataSources {
  /** Expert-driven samples of a simulator world (wired in by the command line). */
  readonly simWorld?: (world: string, samples: number, seed: number) => Promise<TrainingDataset>;
}

const USAGE = `usage: fadnet silo --fleet NAME --id ID (--data DIR_OF_MCAP | --sim-world W [--samples N] | --synthetic N)
                   [--broker URL | --listen HOST:PORT] [--plan FILE | --silos ID,ID,..] [--live-plan [--probe-ms MS] [--margin-rounds N]] [--dir DIR] [--key F] [--trusted F] [--checkpoint F]
                   [--rounds N] [--local-steps U] [--batch B] [--lr X] [--seed S] [--timeout-ms T]
                   [--mixing mean|median|trimmed-mean[:T]] [--encoding ${ENCODINGS.join('|')}] [--nice N]

Trains FADNet on this silo's own data and mixes weights with its overlay peers over MQTT, round
by round, on the plan's multigraph schedule (without --plan: a directed ring over the sorted
--silos, every arc strong every round). With --live-plan the silos measure their links to each
other over MQTT and agree, without a coordinator, on the planner's multigraph for what they
measured; a new plan takes effect --margin-rounds (default 3) after it is proposed, on every silo
at the same round. Without --broker the silo hosts an embedded MQTT broker (aedes) on --listen
(default 127.0.0.1:1883), or uses the one already there when another silo on this machine
hosts it; use --listen 0.0.0.0:1883 to let robots on the network join. Frames and samples never leave the process; only weights
and round numbers do. --dir (default fleet-state/NAME) holds ID.key, trusted.json and the
checkpoint written atomically at the end of every round; a restarted silo resumes from it and
rejoins at the fleet's current round. Runs until --rounds or SIGINT/SIGTERM, at nice ${DEFAULT_NICE}.`;

const OPTIONS = {
  fleet: { type: 'string' },
  id: { type: 'string' },
  data: { type: 'string' },
  'sim-world': { type: 'string' },
  samples: { type: 'string', default: '256' },
  synthetic: { type: 'string' },
  broker: { type: 'string' },
  listen: { type: 'string' },
  'live-plan': { type: 'boolean', default: false },
  'probe-ms': { type: 'string', default: '1000' },
  'margin-rounds': { type: 'string', default: '3' },
  plan: { type: 'string' },
  silos: { type: 'string' },
  dir: { type: 'string' },
  key: { type: 'string' },
  trusted: { type: 'string' },
  checkpoint: { type: 'string' },
  rounds: { type: 'string' },
  'local-steps': { type: 'string', default: '1' },
  batch: { type: 'string', default: '32' },
  lr: { type: 'string', default: '0.001' },
  seed: { type: 'string', default: '0' },
  'timeout-ms': { type: 'string', default: '30000' },
  mixing: { type: 'string', default: 'mean' },
  encoding: { type: 'string', default: 'f16' },
  nice: { type: 'string', default: String(DEFAULT_NICE) },
} as const;

export async function siloCommand(args: string[], sources: SiloDataSources = {}): Promise<number> {
  const parsed = parseCommandArgs(args, OPTIONS);
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const v = parsed.values;
  if (v.fleet === undefined || v.id === undefined) throw new UsageError('--fleet and --id are required');
  const data = [v.data, v['sim-world'], v.synthetic].filter((x) => x !== undefined);
  if (data.length !== 1) throw new UsageError('give exactly one of --data, --sim-world, --synthetic');
  if ((v.plan === undefined) === (v.silos === undefined)) {
    throw new UsageError('give exactly one of --plan FILE and --silos ID,ID,.. (the default ring)');
  }
  const encoding = v.encoding as Encoding;
  if (!ENCODINGS.includes(encoding)) {
    throw new UsageError(`--encoding must be one of ${ENCODINGS.join(', ')}, got "${v.encoding}"`);
  }
  const seed = numberArg('--seed', v.seed, { integer: true, min: 0 });
  if (v.broker !== undefined && v.listen !== undefined) {
    throw new UsageError('--listen is for the embedded broker: give --broker or --listen, not both');
  }
  const listen = listenArg(v.listen ?? '127.0.0.1:1883');
  const livePlan = v['live-plan']
    ? {
        probeEveryMs: numberArg('--probe-ms', v['probe-ms'], { min: 50, max: 3_600_000 }),
        marginRounds: numberArg('--margin-rounds', v['margin-rounds'], { integer: true, min: 1, max: 1000 }),
      }
    : undefined;
  const plan = v.plan !== undefined ? await readPlanFile(v.plan) : defaultPlan(v.silos!.split(','));
  let dataset: TrainingDataset;
  if (v.synthetic !== undefined) {
    dataset = syntheticDataset(numberArg('--synthetic', v.synthetic, { integer: true, min: 1 }), seed + 1);
  } else if (v['sim-world'] !== undefined) {
    if (sources.simWorld === undefined) throw new UsageError('--sim-world is not available in this build');
    const samples = numberArg('--samples', v.samples, { integer: true, min: 1 });
    dataset = await sources.simWorld(v['sim-world'], samples, seed);
  } else {
    const { McapDataset } = await import('../../models/src/dataset/index.ts');
    dataset = await McapDataset.open(await mcapFilesIn(v.data!), {
      inputSpec: FADNET_INPUT_SPEC,
      split: { testFraction: 0.1, seed },
      which: 'train',
    });
  }
  const controller = new AbortController();
  void terminationSignal().then(() => controller.abort());
  await runSilo(
    {
      fleet: v.fleet,
      id: v.id,
      brokerUrl: v.broker,
      embeddedBroker: listen,
      ...(livePlan === undefined ? {} : { livePlan }),
      plan,
      dataset,
      dir: v.dir ?? `fleet-state/${v.fleet}`,
      ...(v.key === undefined ? {} : { keyFile: v.key }),
      ...(v.trusted === undefined ? {} : { trustedFile: v.trusted }),
      ...(v.checkpoint === undefined ? {} : { checkpointFile: v.checkpoint }),
      localSteps: numberArg('--local-steps', v['local-steps'], { integer: true, min: 1 }),
      batchSize: numberArg('--batch', v.batch, { integer: true, min: 1, max: 1024 }),
      lr: numberArg('--lr', v.lr, { above: 0, max: 1 }),
      seed,
      peerTimeoutMs: numberArg('--timeout-ms', v['timeout-ms'], { min: 0 }),
      rule: parseMixRule(v.mixing),
      encoding,
      ...(v.rounds === undefined
        ? {}
        : { untilRound: numberArg('--rounds', v.rounds, { integer: true, min: 1 }) }),
      nice: numberArg('--nice', v.nice, { integer: true, min: 0, max: 19 }),
    },
    controller.signal,
    (line) => console.error(line),
    (report) => console.log(roundLine(v.id!, report)),
  );
  return 0;
}

/** `HOST:PORT` (IPv6 hosts in brackets) for the embedded broker. */
export function listenArg(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (m === null || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`--listen must be HOST:PORT (e.g. 127.0.0.1:1883, [::1]:1883), got "${value}"`);
  }
  return { host: m[1] ?? m[2]!, port };
}

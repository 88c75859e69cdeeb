// `fadnet ota drill`: the OTA fault drill (fleet/ota/drill.ts) with the simulator as the world the
// steering node drives in during every swap: the held-out world, its RealSense-like camera, and
// a safety driver that puts the robot back on the centreline when it leaves the track.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandArgs, UsageError } from '../common/index.ts';
import { runDrill, SCENARIOS, type ScenarioName } from '../fleet/ota/drill.ts';
import type { DrillWorld } from '../fleet/ota/drill-rig.ts';
import type { Twist } from '../nodes/runtime/index.ts';

const USAGE = `usage: fadnet ota drill [--broker URL] [--scenarios NAME,..] [--json] [--verbose]

  Runs the OTA faults end to end on this machine: a real broker (embedded aedes unless
  --broker), a publisher, the update agent as a process killed with SIGKILL during the download,
  staging and the swap, a steering node in a closed loop on simulator frames following every
  swap, every rejection and a rollback after a failed probation. Prints one JSON line with
  --json: scenarios, passed, frames_dropped_during_swap, model_intact, results (each scenario
  with the reason its rejection gave) and numbers (warm-up, sizes, resume).

  scenarios: ${SCENARIOS.join(', ')}`;

export const FADNET_ARGV: readonly string[] = [
  process.execPath,
  fileURLToPath(new URL('./fadnet.mjs', import.meta.url)),
];
export const SEED_MANIFEST = path.resolve(import.meta.dirname, '../models/shipped/fadnet-sim.manifest.json');

/** The held-out simulator world as the drill's world. */
export async function simDrillWorld(seed = 3): Promise<DrillWorld> {
  const [{ Simulator, loadWorld }, { heldOutWorld }, { backOnCentreline }] = await Promise.all([
    import('../sim/index.ts'),
    import('../sim/loop/cli.ts'),
    import('../sim/loop/recover.ts'),
  ]);
  const world = loadWorld(heldOutWorld());
  const sim = Simulator.create({ world, seed });
  const frame = new Uint8Array(640 * 480 * 3);
  return {
    maxAngularRate: sim.vehicle.maxAngularRate,
    step(command: Twist, dtS: number): Uint8Array {
      for (let i = 0; i < 4; i++) {
        const state = sim.step(command, dtS / 4);
        if (state.collided || Math.abs(state.cte) > world.track.width / 2 + 0.15) {
          backOnCentreline(sim);
          break;
        }
      }
      sim.render(frame);
      return frame.slice();
    },
  };
}

export async function otaDrillCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    broker: { type: 'string' },
    scenarios: { type: 'string' },
    json: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  });
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const v = parsed.values;
  let scenarios: ScenarioName[] | undefined;
  if (v.scenarios !== undefined) {
    scenarios = v.scenarios.split(',').map((s) => {
      if (!(SCENARIOS as readonly string[]).includes(s))
        throw new UsageError(`--scenarios must name scenarios of ${SCENARIOS.join(', ')}, got "${s}"`);
      return s as ScenarioName;
    });
  }
  const result = await runDrill({
    ...(v.broker === undefined ? {} : { brokerUrl: v.broker }),
    world: await simDrillWorld(),
    fadnet: FADNET_ARGV,
    seedManifest: SEED_MANIFEST,
    ...(scenarios === undefined ? {} : { scenarios }),
    log: v.verbose
      ? (line) => console.error(line)
      : (line) => {
          if (line.startsWith('drill: ')) console.error(line);
        },
  });
  if (v.json) console.log(JSON.stringify(result));
  else {
    for (const r of result.results)
      console.log(
        `${r.passed ? 'passed' : 'FAILED'}  ${r.name.padEnd(18)} ${r.reason === null ? '' : `[${r.reason.kind}] `}${r.detail}`,
      );
    console.log(
      `${result.passed}/${result.scenarios} passed; frames dropped during swaps ${result.frames_dropped_during_swap}; model intact ${result.model_intact}`,
    );
  }
  return result.passed === result.scenarios && result.model_intact ? 0 : 1;
}

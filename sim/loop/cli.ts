// `fadnet sim`: the closed loop on a world (default the held-out one) with a model (default the
// shipped one), live progress, a summary and the trajectory picture; optionally recorded to
// MCAP and shown live in Foxglove.
import path from 'node:path';
import { numberArg, optionalNumberArg, parseCommandArgs, progressBar } from '../../common/index.ts';
import { LiveView } from '../../nodes/live/index.ts';
import { BusRecorder } from '../../nodes/record/index.ts';
import { writeTrajectoryPng } from '../picture.ts';
import { listWorlds, loadWorld } from '../world/load.ts';
import { runClosedLoop, type ClosedLoopResult, type Driver } from './closed-loop.ts';

export const SHIPPED_MANIFEST = 'models/shipped/fadnet-sim.manifest.json';

const USAGE = `usage: fadnet sim [--world NAME] [--laps N] [--model MANIFEST] [--record FILE.mcap] [--json]
                 [--expert] [--perturb P] [--seed S] [--picture FILE.png] [--live [--live-port P]] [--randomise] [--seconds S]`;

export function heldOutWorld(): string {
  const held = listWorlds().find((w) => w.heldOut);
  if (held === undefined) throw new Error('no world is marked heldOut');
  return held.name;
}

export async function simCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    world: { type: 'string' },
    laps: { type: 'string', default: '3' },
    model: { type: 'string', default: SHIPPED_MANIFEST },
    record: { type: 'string' },
    json: { type: 'boolean', default: false },
    expert: { type: 'boolean', default: false },
    perturb: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    picture: { type: 'string' },
    live: { type: 'boolean', default: false },
    'live-port': { type: 'string', default: '8765' },
    randomise: { type: 'boolean', default: false },
    seconds: { type: 'string' },
  });
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const { values } = parsed;
  // Every number is checked before the world loads: `--laps 0` must not drive nothing and exit 0.
  const laps = numberArg('--laps', values.laps, { integer: true, min: 1 });
  const seed = numberArg('--seed', values.seed, { integer: true, min: 0 });
  const perturbation = numberArg('--perturb', values.perturb, { min: 0 });
  const maxSimSeconds = optionalNumberArg('--seconds', values.seconds, { above: 0 });
  // A flag with an optional value reads the next flag as its value; the port has its own flag,
  // as on the steering node.
  const livePort = numberArg('--live-port', values['live-port'], { integer: true, min: 0, max: 65535 });
  const worldName = values.world ?? heldOutWorld();
  const world = loadWorld(worldName);
  const driver: Driver = values.expert ? 'expert' : 'model';
  const log = (line: string): void => {
    if (!values.json) console.error(line);
  };
  let recorder: BusRecorder | undefined;
  let live: LiveView | undefined;
  const bar = values.json
    ? undefined
    : progressBar(
        `sim ${world.name} (${driver}) [{bar}] lap {lap}/${laps} | cte {cte} m | interventions {iv} | {sim}s sim`,
      );
  let shown: { value: number; payload: Record<string, string | number> } = {
    value: 0,
    payload: { lap: '0.00', cte: '0.00', iv: 0, sim: '0' },
  };
  bar?.start(laps * 100, shown.value, shown.payload);
  let result: ClosedLoopResult;
  try {
    result = await runClosedLoop({
      world,
      laps,
      seed,
      driver,
      manifestPath: values.model,
      perturbation,
      domainRandomisation: values.randomise,
      ...(maxSimSeconds === undefined ? {} : { maxSimSeconds }),
      attach: async (bus) => {
        if (values.record !== undefined) {
          recorder = await BusRecorder.start(bus, values.record, {
            topics: [
              { topic: '/camera/camera/color/image_raw', type: 'sensor_msgs/msg/Image' },
              { topic: '/cmd_vel', type: 'geometry_msgs/msg/TwistStamped' },
              { topic: '/expert/steering', type: 'std_msgs/msg/Float32' },
              { topic: '/fadnet/steering', type: 'std_msgs/msg/Float32' },
            ],
          });
        }
        if (values.live) {
          live = await LiveView.start({ bus, port: livePort });
          log(`live view: open Foxglove and connect to ${live.url}`);
        }
      },
      onProgress: (p) => {
        shown = {
          value: Math.min(laps * 100, Math.floor((p.laps + p.lapFraction) * 100)),
          payload: {
            lap: (p.laps + p.lapFraction).toFixed(2),
            cte: p.cte.toFixed(2),
            iv: p.interventions,
            sim: p.simSeconds.toFixed(0),
          },
        };
        bar?.update(shown.value, shown.payload);
      },
      log: (line) => {
        // A log line interrupts the bar; it resumes where it was, with its last figures.
        bar?.stop();
        log(line);
        bar?.start(laps * 100, shown.value, shown.payload);
      },
    });
  } finally {
    bar?.stop();
    await recorder?.close();
    await live?.close();
  }
  const picture = values.picture ?? path.join('out', `sim-${world.name}-${driver}.png`);
  await writeTrajectoryPng(picture, world, [
    { points: result.trajectory, colour: driver === 'model' ? [220, 40, 40] : [40, 90, 220] },
  ]);
  const summary = {
    world: result.world,
    driver: result.driver,
    laps_completed: result.laps_completed,
    collisions: result.collisions,
    mean_cte_m: result.mean_cte_m,
    max_cte_m: result.max_cte_m,
    mean_speed_mps: result.mean_speed_mps,
    interventions: result.interventions,
    sim_seconds: result.sim_seconds,
    wall_seconds: result.wall_seconds,
    picture,
    ...(values.record === undefined ? {} : { recording: values.record }),
  };
  if (values.json) console.log(JSON.stringify(summary));
  else {
    console.log(
      `\n${world.name}: ${driver} drove ${result.laps_completed} laps in ${result.sim_seconds} s of simulated time (${result.wall_seconds} s wall)`,
    );
    console.log(`  collisions        ${result.collisions}`);
    console.log(`  interventions     ${result.interventions}`);
    console.log(`  cross-track error mean ${result.mean_cte_m} m, max ${result.max_cte_m} m`);
    console.log(`  mean speed        ${result.mean_speed_mps} m/s`);
    console.log(`  trajectory        ${picture}`);
    if (values.record !== undefined) console.log(`  recording         ${values.record}`);
  }
  return 0;
}

// The closed loop: the simulator publishes camera frames with header stamps and consumes
// /cmd_vel through the same node runtime the robot uses; the steering node is the robot's,
// unchanged, started with Gazebo's params file (launch/params/gazebo.yaml, use_sim_time: true)
// as `ros2 launch` would start it there. The simulator owns time, as Gazebo does: it publishes
// rosgraph_msgs/Clock on /clock and the node's clock follows it. The loop runs in lockstep:
// each frame waits for the command that answers it, and each /clock step is delivered (the
// node's timers, the watchdog among them, run) before the next frame, so the run is
// deterministic and faster than real time.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CLOCK_TOPIC,
  EmbeddedBus,
  ManualClock,
  parametersFromYaml,
  QOS_CLOCK_PUBLISHER,
  QOS_COMMANDS,
  QOS_SENSOR_DATA,
  QOS_STATUS,
  resolveParameters,
  timeFromMs,
  timeToMs,
  type Twist,
} from '../../nodes/runtime/index.ts';
import { STEERING_NODE_NAME, STEERING_PARAMS } from '../../nodes/steering/params.ts';
import { startSteering, type RunningSteering } from '../../nodes/steering/main.ts';
import type { World } from '../world/schema.ts';
import { Simulator } from '../simulator.ts';
import { DEFAULT_RANDOMISATION } from '../render/effects.ts';
import { backOnCentreline } from './recover.ts';
import { mulberry32, round3 } from '../../common/index.ts';

export type Driver = 'model' | 'expert';

export interface ClosedLoopOptions {
  readonly world: World;
  readonly laps: number;
  readonly seed: number;
  readonly driver: Driver;
  readonly manifestPath?: string;
  /** Camera rate (Hz) in simulation time. */
  readonly fps?: number;
  /** Stop after this much simulated time even if the laps are not done. */
  readonly maxSimSeconds?: number;
  /** Expert mode only: random steering perturbations so recordings show recoveries. */
  readonly perturbation?: number;
  readonly domainRandomisation?: boolean;
  /** Called with the bus before the loop starts (recorders, live view attach here). */
  readonly attach?: (bus: EmbeddedBus) => Promise<void> | void;
  readonly onProgress?: (p: Progress) => void;
  readonly log?: (line: string) => void;
}

export interface Progress {
  readonly simSeconds: number;
  readonly laps: number;
  readonly lapFraction: number;
  readonly cte: number;
  readonly interventions: number;
}

export interface ClosedLoopResult {
  readonly world: string;
  readonly driver: Driver;
  readonly laps_completed: number;
  readonly collisions: number;
  readonly mean_cte_m: number;
  readonly max_cte_m: number;
  readonly mean_speed_mps: number;
  readonly interventions: number;
  readonly sim_seconds: number;
  readonly wall_seconds: number;
  readonly frames: number;
  readonly trajectory: readonly [number, number][];
  readonly interventionPoints: readonly [number, number][];
}

const START_MS = 1_000_000; // a non-zero epoch: ROS treats a zero stamp as "unset"

/** Where the simulated RealSense publishes, as on the robot (recordings and datasets use it). */
const CAMERA_TOPIC = '/camera/camera/color/image_raw';

/** The steering node's parameters under Gazebo, used here unchanged. */
const GAZEBO_PARAMS_FILE = path.resolve(import.meta.dirname, '../../launch/params/gazebo.yaml');

export async function runClosedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const wallStart = performance.now();
  const fps = o.fps ?? 30;
  const dtMs = 1000 / fps;
  // The simulator's own time (Gazebo's): /clock publishes it; recorders and the live view on
  // the bus stamp with it. The steering node reads only /clock.
  const clock = new ManualClock(START_MS);
  const bus = new EmbeddedBus({ clock });
  const sim = Simulator.create({
    world: o.world,
    seed: o.seed,
    ...(o.domainRandomisation === true ? { randomisation: DEFAULT_RANDOMISATION } : {}),
  });
  // The steering label is angular.z / maxAngularRate (sim/expert.ts): the node's gain and
  // clamp must use the same rate for the model's output to mean what the expert's did.
  const maxAngularRate = sim.vehicle.maxAngularRate;
  const lapLength = sim.centreline.length;
  // Distance driven before the last recovery: the simulator restarts its own count on reset.
  let carried = 0;
  const recover = (): ReturnType<Simulator['step']> => {
    carried += state.distance;
    return backOnCentreline(sim);
  };
  const lapsNow = (): number => Math.floor((carried + state.distance) / lapLength);
  const lapFractionNow = (): number => (carried + state.distance) / lapLength - lapsNow();
  let steering: RunningSteering | undefined;
  let command: Twist = { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } };
  let answered = -1;

  const simNode = bus.createNode('simulator');
  const camera = simNode.createPublisher('sensor_msgs/msg/Image', CAMERA_TOPIC, QOS_SENSOR_DATA);
  const clockPub = simNode.createPublisher('rosgraph_msgs/msg/Clock', CLOCK_TOPIC, QOS_CLOCK_PUBLISHER);
  /** Publishes the simulator's time on /clock and waits until every node has acted on it. */
  const publishClock = async (): Promise<void> => {
    clockPub.publish({ clock: timeFromMs(clock.now()) });
    await bus.flush();
  };
  const expertPub = simNode.createPublisher('std_msgs/msg/Float32', '/expert/steering', QOS_STATUS);
  simNode.createSubscription('geometry_msgs/msg/TwistStamped', '/cmd_vel', QOS_COMMANDS, (m) => {
    command = m.twist;
    answered = Math.max(answered, timeToMs(m.header.stamp));
  });

  let expertCmd: ((twist: Twist, stampMs: number) => void) | undefined;
  if (o.driver === 'model') {
    const gazebo = parametersFromYaml(
      await readFile(GAZEBO_PARAMS_FILE, 'utf8'),
      STEERING_NODE_NAME,
      GAZEBO_PARAMS_FILE,
    );
    // On top of the file, as a launch file's own parameters would be: what this simulator's
    // robot and loop differ in.
    const params = resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS, [
      { name: path.basename(GAZEBO_PARAMS_FILE), values: gazebo },
      {
        name: 'simulation',
        values: {
          use_stamped: true, // the loop matches each command to its frame by the stamp
          max_angular_rate: maxAngularRate, // this vehicle's, not Gazebo's robot's
          steering_gain: maxAngularRate, // the label is angular.z / max_angular_rate
          turn_slowdown: 0.3,
          execution_providers: ['cpu'], // the same numbers on every machine
          ...(o.manifestPath === undefined ? {} : { model_manifest: o.manifestPath }),
        },
      },
    ]);
    // The camera is remapped as a launch file would: Gazebo's bridge names it differently.
    steering = await startSteering(bus, params, [
      '--ros-args',
      '-r',
      `${params.camera_topic}:=${CAMERA_TOPIC}`,
    ]);
  } else {
    const pub = bus
      .createNode('expert_driver')
      .createPublisher('geometry_msgs/msg/TwistStamped', '/cmd_vel', QOS_COMMANDS);
    expertCmd = (twist, stampMs) =>
      pub.publish({ header: { stamp: timeFromMs(stampMs), frame_id: 'base_link' }, twist });
  }
  await o.attach?.(bus);
  await publishClock(); // the node's clock starts here: it does not drive before

  const frame = new Uint8Array(640 * 480 * 3);
  const trajectory: [number, number][] = [];
  const interventionPoints: [number, number][] = [];
  let collisions = 0;
  let interventions = 0;
  let cteSum = 0;
  let cteMax = 0;
  let distance = 0;
  let frames = 0;
  const rand = mulberry32(o.seed + 17);
  let perturb = 0;
  let perturbUntil = 0;
  const maxMs = (o.maxSimSeconds ?? 600) * 1000;
  let state = sim.reset();
  try {
    while (lapsNow() < o.laps && clock.now() - START_MS < maxMs) {
      const now = clock.now();
      const stamp = timeFromMs(now);
      sim.render(frame);
      const expert = sim.expert();
      expertPub.publish({ data: expert.steering });
      camera.publish({
        header: { stamp, frame_id: 'camera_color_optical_frame' },
        height: 480,
        width: 640,
        encoding: 'rgb8',
        is_bigendian: 0,
        step: 1920,
        data: frame.slice(),
      });
      frames += 1;
      if (expertCmd !== undefined) {
        if (o.perturbation !== undefined && o.perturbation > 0) {
          if (now >= perturbUntil && rand() < 0.02) {
            perturb = (rand() * 2 - 1) * o.perturbation;
            perturbUntil = now + 300 + rand() * 700;
          }
          if (now >= perturbUntil) perturb = 0;
        }
        const s = Math.max(-1, Math.min(1, expert.steering + perturb));
        expertCmd(
          {
            linear: { x: expert.twist.linear.x, y: 0, z: 0 },
            angular: { x: 0, y: 0, z: s * maxAngularRate },
          },
          now,
        );
      }
      // Stamps carry nanoseconds: compare with a tolerance, not bit-exact milliseconds.
      await waitFor(() => answered >= now - 1e-3, bus);
      // Physics in substeps while simulated time passes.
      const sub = 4;
      for (let i = 0; i < sub; i++) {
        state = sim.step(command, dtMs / 1000 / sub);
        clock.advance(dtMs / sub);
        distance += Math.abs(sim.state.v) * (dtMs / 1000 / sub);
        if (state.collided || Math.abs(state.cte) > o.world.track.width / 2 + 0.15) {
          // A safety driver takes over: count it, put the robot back on the centreline.
          if (state.collided) collisions += 1;
          interventions += 1;
          interventionPoints.push([state.pose.x, state.pose.y]);
          o.log?.(
            `intervention ${interventions} at lap ${(lapsNow() + lapFractionNow()).toFixed(2)}: ${state.collided ? 'collision' : `left the track (cte ${state.cte.toFixed(2)} m)`}`,
          );
          state = recover();
          break;
        }
      }
      // One /clock per camera frame (ROS bag playback publishes /clock at a fixed rate too): the
      // node's timers (control tick, watchdog, diagnostics) run up to the new time in order, and
      // what they publish is in before the next frame, as commands sent between frames would be.
      await publishClock();
      const cte = Math.abs(state.cte);
      cteSum += cte;
      cteMax = Math.max(cteMax, cte);
      if (frames % 3 === 0) trajectory.push([state.pose.x, state.pose.y]);
      if (frames % 15 === 0) {
        o.onProgress?.({
          simSeconds: (clock.now() - START_MS) / 1000,
          laps: lapsNow(),
          lapFraction: lapFractionNow(),
          cte: state.cte,
          interventions,
        });
      }
    }
  } finally {
    await steering?.stop();
    await bus.shutdown();
  }
  const simSeconds = (clock.now() - START_MS) / 1000;
  return {
    world: o.world.name,
    driver: o.driver,
    laps_completed: lapsNow(),
    collisions,
    mean_cte_m: round3(cteSum / Math.max(1, frames)),
    max_cte_m: round3(cteMax),
    mean_speed_mps: round3(distance / Math.max(1e-9, simSeconds)),
    interventions,
    sim_seconds: round3(simSeconds),
    wall_seconds: round3((performance.now() - wallStart) / 1000),
    frames,
    trajectory,
    interventionPoints,
  };
}

/** Waits (in real time) until the command answering the frame is in, or gives up after 2 s. */
async function waitFor(cond: () => boolean, bus: EmbeddedBus): Promise<void> {
  const end = performance.now() + 2000;
  while (!cond() && performance.now() < end) {
    await bus.flush();
    if (!cond()) await new Promise((r) => setImmediate(r));
  }
}

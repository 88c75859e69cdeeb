// A simulated fleet for the dashboard's demo, its end-to-end test and the scale benchmark: each
// robot is a real MQTT client with its own Last Will publishing schema-checked records through
// the robot's own publisher. The figures are a pure function of the robot's index and its
// record's sequence number, so a test knows exactly what every screen must show.

import type { TelemetryRecord } from './schema.ts';
import { TELEMETRY_VERSION } from './schema.ts';
import { TelemetryPublisher } from './publisher.ts';

export interface SimulatedRobotSpec {
  readonly id: string;
  readonly modelVersion: string;
}

/** Rounds last this many records in the simulation. */
export const SIM_RECORDS_PER_ROUND = 5;

/** Robot `index`'s record number `seq`, made at `at`. */
export function simulatedRecord(
  fleet: string,
  spec: SimulatedRobotSpec,
  index: number,
  seq: number,
  at: number,
): TelemetryRecord {
  const round = Math.floor(seq / SIM_RECORDS_PER_ROUND);
  const wave = Math.sin((seq + index) / 3);
  return {
    v: TELEMETRY_VERSION,
    fleet,
    robot: spec.id,
    seq,
    at,
    inference: {
      fps: 30 - (index % 10),
      latencyP50Ms: 2 + (index % 10) * 0.5,
      latencyP99Ms: 5 + (index % 10),
      modelVersion: spec.modelVersion,
      framesReceived: seq * 30,
      framesDropped: seq,
      framesRejected: 0,
      resultsLate: 0,
      measuredAt: at,
    },
    watchdog: { state: 'driving', stops: 0, reason: null, lastStop: null },
    steering: { samples: 30, mean: 0.2 * wave, meanAbs: Math.abs(0.2 * wave), min: -0.5, max: 0.5 },
    training: {
      round,
      loss: Math.round((0.05 + 0.5 / (round + 1) + 0.002 * (index % 7)) * 1e6) / 1e6,
      roundMs: 5000,
      peersMixed: 1,
      peersTimedOut: 0,
    },
    exchange: { bytesSent: round * 702_979, bytesReceived: round * 702_979 },
    battery: { fraction: Math.max(0, 1 - seq / 20_000 - (index % 10) / 100), voltage: 12.1 },
    system: {
      cpuLoad: 0.4,
      load1: 0.8,
      cpuCount: 4,
      processRssBytes: 60_000_000,
      memoryUsedBytes: 2_000_000_000,
      memoryTotalBytes: 8_000_000_000,
    },
    dropped: 0,
  };
}

export interface SimulatedFleetOptions {
  readonly url: string;
  readonly fleet: string;
  readonly robots: readonly SimulatedRobotSpec[];
  readonly periodMs?: number;
  /** Publish times: Date.now by default (the dashboard measures delay against it). */
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

export interface SimulatedFleet {
  readonly publishers: readonly TelemetryPublisher[];
  /** Records published so far, all robots. */
  readonly sent: number;
  stop(): Promise<void>;
}

/** Connects every robot, then publishes one record per robot per period, robots spread over the period. */
export async function startSimulatedFleet(o: SimulatedFleetOptions): Promise<SimulatedFleet> {
  const now = o.now ?? Date.now;
  const periodMs = o.periodMs ?? 1000;
  const log = o.log ?? ((line: string) => console.error(line));
  const publishers = o.robots.map((r) =>
    TelemetryPublisher.start({ url: o.url, fleet: o.fleet, robot: r.id, log }),
  );
  await Promise.all(publishers.map((p) => p.connected()));
  let sent = 0;
  const timers: NodeJS.Timeout[] = [];
  const starts: NodeJS.Timeout[] = [];
  o.robots.forEach((spec, i) => {
    let seq = 0;
    const beat = (): void => {
      publishers[i]!.publish(simulatedRecord(o.fleet, spec, i, seq++, now()));
      sent++;
    };
    // Spread over the period, as real robots' clocks are, rather than 200 records in one burst.
    starts.push(
      setTimeout(
        () => {
          beat();
          timers.push(setInterval(beat, periodMs));
        },
        Math.floor((i * periodMs) / Math.max(1, o.robots.length)),
      ),
    );
  });
  return {
    publishers,
    get sent() {
      return sent;
    },
    stop: async () => {
      starts.forEach(clearTimeout);
      timers.forEach(clearInterval);
      await Promise.all(publishers.map((p) => p.close()));
    },
  };
}

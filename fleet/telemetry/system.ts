// CPU load and memory for the telemetry record, from node:os and the process. The load over an
// interval is the pure part (idle and total CPU time between two samples of os.cpus()).

import { cpus, freemem, loadavg, totalmem, type CpuInfo } from 'node:os';

import type { SystemSample } from './aggregator.ts';

export interface CpuTimes {
  readonly idle: number;
  readonly total: number;
}

export function cpuTimes(info: readonly Pick<CpuInfo, 'times'>[]): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const { times } of info) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}

/** Share of CPU time spent busy between two samples, 0..1 (0 when no time passed). */
export function cpuLoadBetween(before: CpuTimes, after: CpuTimes): number {
  const total = after.total - before.total;
  if (total <= 0) return 0;
  return Math.min(1, Math.max(0, 1 - (after.idle - before.idle) / total));
}

/** Samples the machine; each call's CPU load covers the time since the previous call. */
export class SystemProbe {
  #last: CpuTimes = cpuTimes(cpus());

  sample(): SystemSample {
    const info = cpus();
    const now = cpuTimes(info);
    const cpuLoad = cpuLoadBetween(this.#last, now);
    this.#last = now;
    const total = totalmem();
    return {
      cpuLoad,
      load1: loadavg()[0] ?? 0,
      cpuCount: Math.max(1, info.length),
      processRssBytes: process.memoryUsage.rss(),
      memoryUsedBytes: total - freemem(),
      memoryTotalBytes: total,
    };
  }
}

// The dashboard end to end: a real broker, a simulated fleet of four robots publishing telemetry
// through the robot's own publisher, an OTA state, a plan file; the dashboard server; and
// Debian's Chromium, headless, reading the page as a viewer sees it. Then `fadnet fleet status`
// as a process against the same broker.
import { spawnSync, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_CHROMIUM, HeadlessChromium } from '../../fleet/dashboard/chromium.ts';
import type { ChromiumPage } from '../../fleet/dashboard/chromium.ts';
import { startDashboard, type Dashboard } from '../../fleet/dashboard/index.ts';
import { PLAN_FORMAT, readPlanFile } from '../../fleet/silo/index.ts';
import { otaStateTopic, simulatedRecord, startSimulatedFleet } from '../../fleet/telemetry/index.ts';
import type { SimulatedFleet } from '../../fleet/telemetry/index.ts';
import { mosquittoOrSkip, startAedes, startMosquitto, type TestBroker } from '../fleet/brokers.ts';

const CHROMIUM_MISSING =
  'chromium is not installed (apt-get install chromium); CI installs it and fails without it';

function chromiumOrSkip(): boolean {
  const ok = existsSync(DEFAULT_CHROMIUM) && spawnSync(DEFAULT_CHROMIUM, ['--version']).status === 0;
  if (!ok && process.env.CI === 'true') throw new Error(CHROMIUM_MISSING);
  return ok;
}

const FLEET = 'e2e';
const ROBOTS = [
  { id: 'robot-a', modelVersion: 'fadnet-sim@1.1.0' },
  { id: 'robot-b', modelVersion: 'fadnet-sim@1.2.0' },
  { id: 'robot-c', modelVersion: 'fadnet-sim@1.1.0' },
  { id: 'robot-d', modelVersion: 'fadnet-sim@1.1.0' },
];
/** The plan: a ring whose arcs are strong every 1, 2, 3 and 1 rounds. */
const MULTIPLICITY = [1, 2, 3, 1];

const haveChromium = chromiumOrSkip();
let broker: TestBroker;
let dir: string;
let fleet: SimulatedFleet;
let dashboard: Dashboard;
let browser: HeadlessChromium;
let page: ChromiumPage;
const logs: string[] = [];

describe.skipIf(!haveChromium)('fleet dashboard in headless Chromium', () => {
  beforeAll(async () => {
    broker = mosquittoOrSkip() ? await startMosquitto('dashboard') : await startAedes('dashboard');
    dir = await mkdtemp(path.join(tmpdir(), 'fadnet-dashboard-'));
    const planFile = path.join(dir, 'plan.json');
    await writeFile(
      planFile,
      JSON.stringify({
        format: PLAN_FORMAT,
        silos: ROBOTS.map((r) => r.id),
        kind: 'ring',
        arcs: ROBOTS.map((r, i) => ({
          from: r.id,
          to: ROBOTS[(i + 1) % ROBOTS.length]!.id,
          multiplicity: MULTIPLICITY[i],
        })),
      }),
    );
    // The OTA updater's retained states: one it knows, one that is not JSON (refused, shown as none).
    const ota = await mqtt.connectAsync(broker.url);
    await ota.publishAsync(
      otaStateTopic(FLEET, 'robot-b'),
      JSON.stringify({ state: 'downloading', version: 'fadnet-sim@1.3.0', progress: 0.4 }),
      { qos: 1, retain: true },
    );
    await ota.publishAsync(otaStateTopic(FLEET, 'robot-c'), 'garbage', { qos: 1, retain: true });
    await ota.endAsync();
    dashboard = await startDashboard({
      url: broker.url,
      fleet: FLEET,
      port: 0,
      plan: { plan: await readPlanFile(planFile), source: 'plan file plan.json' },
      log: (l) => logs.push(l),
    });
    fleet = await startSimulatedFleet({ url: broker.url, fleet: FLEET, robots: ROBOTS, log: () => {} });
    browser = await HeadlessChromium.launch();
    page = await browser.open(dashboard.url);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await fleet?.stop();
    await dashboard?.close();
    await broker?.dispose();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const rows = (): Promise<string[][]> =>
    page.evaluate<string[][]>(
      '[...document.querySelectorAll("#robots tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent))',
    );

  it('shows every robot with its model version, OTA state and figures', async () => {
    await page.waitFor('document.querySelectorAll("#robots tbody tr").length === 4', 20_000);
    await page.waitFor(
      '[...document.querySelectorAll("#robots tbody tr")].every((tr) => tr.cells[4].textContent !== "–")',
      20_000,
    );
    const table = await rows();
    expect(table.map((r) => r.slice(0, 8))).toEqual(
      ROBOTS.map((spec, i) => {
        const r = simulatedRecord(FLEET, spec, i, 0, 0);
        const ota = spec.id === 'robot-b' ? 'downloading fadnet-sim@1.3.0' : '–';
        return [
          spec.id,
          'online',
          spec.modelVersion,
          ota,
          r.inference!.fps!.toFixed(1),
          r.inference!.latencyP50Ms!.toFixed(2),
          r.inference!.latencyP99Ms!.toFixed(2),
          'driving',
        ];
      }),
    );
    // Round and loss move with time: each row's loss is the simulation's for the round it shows.
    for (const [i, row] of table.entries()) {
      const round = Number(row[8]);
      const r = simulatedRecord(FLEET, ROBOTS[i]!, i, round * 5, 0);
      expect([row[9], row[10], row[11]]).toEqual([
        r.training!.loss!.toFixed(4),
        `${Math.round(r.battery!.fraction! * 100)}%`,
        '40%',
      ]);
    }
    expect(await page.evaluate('document.getElementById("fleet").textContent')).toBe(FLEET);
    expect(logs).toContain('fleet view: OTA state of robot-c refused: not JSON (7 bytes)');
  });

  it("draws the plan's overlay with each link's state in the fleet's round, and the plots", async () => {
    await page.waitFor('document.querySelectorAll("#links li").length === 4', 20_000);
    const drawn = await page.evaluate<{
      round: string;
      links: string[];
      paths: number;
      nodes: number;
      lines: number;
    }>(
      `({
        round: document.getElementById("overlay-round").textContent,
        links: [...document.querySelectorAll("#links li")].map((li) => li.textContent),
        paths: document.querySelectorAll("#overlay path.link").length,
        nodes: document.querySelectorAll("#overlay circle").length,
        lines: document.querySelectorAll("#latency-plot polyline").length,
      })`,
    );
    const round = Number(/^round (\d+)$/.exec(drawn.round)?.[1]);
    expect(Number.isInteger(round)).toBe(true);
    expect(drawn.links).toEqual(
      ROBOTS.map(
        (r, i) =>
          `${r.id} → ${ROBOTS[(i + 1) % 4]!.id} ${round % MULTIPLICITY[i]! === 0 ? 'strong' : 'weak'}`,
      ),
    );
    expect([drawn.paths, drawn.nodes, drawn.lines]).toEqual([4, 4, 4]);
    expect(await page.evaluate('document.getElementById("overlay-source").textContent')).toBe(
      'plan file plan.json',
    );
  });

  it('marks a robot offline when its connection dies (Last Will), live', async () => {
    await fleet.publishers[3]!.kill();
    await page.waitFor(
      'document.querySelector("#robots tbody tr[data-robot=robot-d]").cells[1].textContent === "offline"',
      20_000,
    );
    const online = (await rows()).map((r) => r[1]);
    expect(online).toEqual(['online', 'online', 'online', 'offline']);
  });

  it('fadnet fleet status prints the same robots as JSON and as a table', async () => {
    const run = promisify(execFile);
    const base = ['bin/fadnet.mjs', 'fleet', 'status', '--broker', broker.url, '--fleet', FLEET, '--once'];
    const json = await run(process.execPath, [...base, '--json', '--wait-ms', '1000']);
    const status = JSON.parse(json.stdout) as { fleet: string; robots: Record<string, unknown>[] };
    expect(status.fleet).toBe(FLEET);
    expect(status.robots.map((r) => [r.robot, r.online, r.modelVersion, r.fps, r.p99Ms])).toEqual([
      ['robot-a', true, 'fadnet-sim@1.1.0', 30, 5],
      ['robot-b', true, 'fadnet-sim@1.2.0', 29, 6],
      ['robot-c', true, 'fadnet-sim@1.1.0', 28, 7],
      ['robot-d', false, 'fadnet-sim@1.1.0', 27, 8],
    ]);
    const table = await run(process.execPath, [...base, '--wait-ms', '1000']);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`fleet ${FLEET} on ${broker.url}: 4 robot(s)`);
    expect(lines[1]).toBe('robot    online  model              fps  p99 ms  round  last seen');
    expect(lines[5]).toMatch(/^robot-d {2}no {6}fadnet-sim@1\.1\.0 {2}27\.0 {4}8\.00 +\d+ +\d+\.\d s ago$/);
  }, 30_000);
});

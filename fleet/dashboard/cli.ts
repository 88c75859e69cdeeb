// `fadnet fleet status` and `fadnet fleet dashboard`: thin commands over the fleet view, its
// MQTT subscriber and the dashboard server.

import mqtt, { type MqttClient } from 'mqtt';

import { numberArg, parseCommandArgs, UsageError, writeFileAtomic } from '../../common/index.ts';
import { brokerFor, DEFAULT_EMBEDDED_LISTEN } from '../exchange/index.ts';
import { NAME_PATTERN } from '../exchange/topics.ts';
import { parsePlan, PLAN_FORMAT, readPlanFile } from '../silo/index.ts';
import type { FleetPlan } from '../silo/index.ts';
import { otaStateTopic, startSimulatedFleet } from '../telemetry/index.ts';
import type { SimulatedFleet } from '../telemetry/index.ts';
import { HeadlessChromium } from './chromium.ts';
import { startDashboard } from './server.ts';
import { FleetSubscriber } from './subscriber.ts';
import { FleetView, statusTable } from './view.ts';

/** Where the fleet's broker is when --broker is not given: the silos' default (fleet/silo). */
export const DEFAULT_BROKER = 'mqtt://127.0.0.1:1883';

function checkNameOrUsage(flag: string, name: string): string {
  if (!NAME_PATTERN.test(name))
    throw new UsageError(`${flag} must be 1-64 letters, digits, '-' or '_', got "${name}"`);
  return name;
}

const STATUS_USAGE = `usage: fadnet fleet status [--broker URL] [--fleet NAME] [--once] [--json] [--wait-ms MS] [--every-ms MS]

  A live table of the fleet's robots (online, model version, fps, p99, round, last seen), redrawn
  every --every-ms (1000). --once prints it once after --wait-ms (1500) of collecting the retained
  messages; --json prints the rows as one JSON line instead (with --once: one line, then exit).
  --broker defaults to ${DEFAULT_BROKER}, --fleet to fadnet.`;

export async function fleetStatusCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    broker: { type: 'string', default: DEFAULT_BROKER },
    fleet: { type: 'string', default: 'fadnet' },
    once: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'wait-ms': { type: 'string', default: '1500' },
    'every-ms': { type: 'string', default: '1000' },
  });
  if (parsed.help) {
    console.log(STATUS_USAGE);
    return 0;
  }
  const v = parsed.values;
  const fleet = checkNameOrUsage('--fleet', v.fleet);
  const waitMs = numberArg('--wait-ms', v['wait-ms'], { integer: true, min: 0, max: 600_000 });
  const everyMs = numberArg('--every-ms', v['every-ms'], { integer: true, min: 100, max: 600_000 });
  const view = new FleetView({ fleet, historyPoints: 1 });
  const subscriber = await FleetSubscriber.connect({ url: v.broker, view });
  const print = (): void => {
    const rows = view.rows(Date.now());
    if (v.json) console.log(JSON.stringify({ fleet, robots: rows }));
    else {
      const table = rows.length === 0 ? `no robots of fleet ${fleet} on ${v.broker} yet` : statusTable(rows);
      // A live table redraws in place on a terminal; piped, it appends a table per period.
      const clear = v.once || !process.stdout.isTTY ? '' : '\x1b[H\x1b[2J';
      console.log(`${clear}fleet ${fleet} on ${v.broker}: ${rows.length} robot(s)\n${table}`);
    }
  };
  try {
    if (v.once) {
      await new Promise((r) => setTimeout(r, waitMs));
      print();
      return 0;
    }
    const timer = setInterval(print, everyMs);
    print();
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    clearInterval(timer);
    return 0;
  } finally {
    await subscriber.close();
  }
}

const DASHBOARD_USAGE = `usage: fadnet fleet dashboard [--broker URL] [--fleet NAME] [--port P] [--host H] [--plan FILE] [--history N]
                              [--demo [--demo-robots N]] [--screenshot FILE [--screenshot-after S]]

  A web page of the fleet: its robots, their model versions and OTA state, live plots of latency
  and training loss, and the overlay of the plan in force with each link's state this round.
  --port defaults to 8080 (0 picks a free one), --host to 127.0.0.1 (0.0.0.0: the lab's network).
  --plan FILE draws a plan file (fadnet topology ... --plan-out); without it the live plan's
  proposals, else a ring over the robots seen. Without --broker it hosts an embedded broker on
  ${DEFAULT_BROKER} (or joins the one listening there), as the silos do. --demo adds a simulated
  fleet of --demo-robots (6) robots publishing telemetry, their OTA states and a demo plan (unless
  --plan). --screenshot FILE saves a PNG of the page after --screenshot-after (12) seconds through
  headless Chromium (/usr/bin/chromium) and exits.`;

export async function fleetDashboardCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    broker: { type: 'string' },
    fleet: { type: 'string', default: 'fadnet' },
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    plan: { type: 'string' },
    history: { type: 'string', default: '120' },
    demo: { type: 'boolean', default: false },
    'demo-robots': { type: 'string', default: '6' },
    screenshot: { type: 'string' },
    'screenshot-after': { type: 'string', default: '12' },
  });
  if (parsed.help) {
    console.log(DASHBOARD_USAGE);
    return 0;
  }
  const v = parsed.values;
  const fleet = checkNameOrUsage('--fleet', v.fleet);
  const port = numberArg('--port', v.port, { integer: true, min: 0, max: 65535 });
  const historyPoints = numberArg('--history', v.history, { integer: true, min: 1, max: 100_000 });
  const demoRobots = numberArg('--demo-robots', v['demo-robots'], { integer: true, min: 2, max: 1000 });
  const screenshotAfter = numberArg('--screenshot-after', v['screenshot-after'], { min: 0, max: 3600 });
  if (!v.demo && args.some((a) => a.startsWith('--demo-robots')))
    throw new UsageError('--demo-robots needs --demo');
  const ids = Array.from({ length: demoRobots }, (_, i) => `robot-${i + 1}`);
  const plan =
    v.plan !== undefined
      ? { plan: await readPlanFile(v.plan), source: `plan file ${v.plan}` }
      : v.demo
        ? { plan: demoPlan(ids), source: 'demo plan: a ring whose arcs are strong every 1, 2 or 3 rounds' }
        : undefined;
  const broker = await brokerFor(v.broker, DEFAULT_EMBEDDED_LISTEN, (line) => console.error(line));
  const dashboard = await startDashboard({
    url: broker.url,
    fleet,
    host: v.host,
    port,
    historyPoints,
    ...(plan === undefined ? {} : { plan }),
  });
  const demo = v.demo ? await startDemo(broker.url, fleet, ids) : undefined;
  const demoOta = v.demo ? await publishDemoOta(broker.url, fleet, ids) : undefined;
  try {
    // The first stdout line is the address (a benchmark or script reads it); logs go to stderr.
    console.log(`dashboard: ${dashboard.url} (fleet ${fleet}, broker ${broker.url})`);
    if (v.screenshot !== undefined) {
      await new Promise((r) => setTimeout(r, screenshotAfter * 1000));
      await screenshot(dashboard.url, v.screenshot);
      console.log(`screenshot: ${v.screenshot}`);
    } else {
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
  } finally {
    await demo?.stop();
    await demoOta?.endAsync();
    await dashboard.close();
    await broker.close();
  }
  return 0;
}

/** A ring over the demo robots whose arcs are strong every 1, 2 or 3 rounds, so the overlay shows both states. */
export function demoPlan(ids: readonly string[]): FleetPlan {
  return parsePlan(
    {
      format: PLAN_FORMAT,
      silos: ids,
      kind: 'ring',
      arcs: ids.map((from, i) => ({ from, to: ids[(i + 1) % ids.length]!, multiplicity: 1 + (i % 3) })),
    },
    'demo plan',
  );
}

function startDemo(url: string, fleet: string, ids: readonly string[]): Promise<SimulatedFleet> {
  return startSimulatedFleet({
    url,
    fleet,
    robots: ids.map((id, i) => ({ id, modelVersion: i % 3 === 2 ? 'fadnet-sim@1.2.0' : 'fadnet-sim@1.1.0' })),
  });
}

/** What the OTA updater publishes, in the demo: one robot downloading, the others idle on their version. */
async function publishDemoOta(url: string, fleet: string, ids: readonly string[]): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 1000 });
  await Promise.all(
    ids.map((id, i) =>
      client.publishAsync(
        otaStateTopic(fleet, id),
        JSON.stringify(
          i === 1
            ? { state: 'downloading', version: 'fadnet-sim@1.2.0' }
            : { state: 'idle', version: i % 3 === 2 ? 'fadnet-sim@1.2.0' : 'fadnet-sim@1.1.0' },
        ),
        { qos: 1, retain: true },
      ),
    ),
  );
  return client;
}

/** The page as a browser shows it, to a PNG (headless Chromium). */
async function screenshot(url: string, file: string): Promise<void> {
  const browser = await HeadlessChromium.launch();
  try {
    const page = await browser.open(url, 1280, 900);
    await page.waitFor('document.querySelectorAll("#robots tbody tr").length > 0', 20_000);
    // One redraw after the first events (the page redraws at most every 250 ms).
    await new Promise((r) => setTimeout(r, 1000));
    await writeFileAtomic(file, await page.screenshot());
  } finally {
    await browser.close();
  }
}

// `fadnet ota publish|status|rollback|drill`: thin commands over the publisher, the store and
// the drill. `drill` needs the simulator, which this folder must not import: bin/ hands it in.
import path from 'node:path';
import { numberArg, parseCommandArgs, requiredArg, UsageError } from '../../common/index.ts';
import { readSiloKeyFile } from '../exchange/index.ts';
import { statusLine } from './node.ts';
import {
  buildRelease,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_GOLDEN_COUNT,
  DEFAULT_LATENCY_BUDGET_MS,
  DEFAULT_PROBATION,
  DEFAULT_TOLERANCE,
  publishRelease,
} from './publish.ts';
import { ModelStore } from './store.ts';

const USAGE = `usage: fadnet ota <command>

  publish   sign a model package and publish it to a fleet as a release (retained, chunked)
  status    the robot's model store: active and previous model, the last OTA state and reason
  rollback  back to the previous model on this robot
  drill     power-loss and rejection faults end to end against a real broker; one JSON line`;

const PUBLISH_USAGE = `usage: fadnet ota publish --fleet NAME --model DIR|MANIFEST --key KEY [--broker URL]
                         [--signer ID] [--allow-downgrade] [--latency-budget-ms MS] [--tolerance T]
                         [--golden N] [--chunk-bytes N] [--probation-s S] [--max-jitter J]

  --model        an exported package (its folder with one manifest, or the manifest)
  --key          the publisher's Ed25519 key (fadnet fleet keygen); robots must trust it
  --signer       its id in the robots' trusted keys (default: the key file's name without .key)
  --broker       the fleet's broker (default mqtt://127.0.0.1:1883)
  --allow-downgrade      robots install it even when it is not newer than theirs
  --latency-budget-ms    p99 of one inference on the robot (default ${DEFAULT_LATENCY_BUDGET_MS})
  --tolerance    golden output tolerance (default ${DEFAULT_TOLERANCE})
  --golden       golden inputs (default ${DEFAULT_GOLDEN_COUNT})
  --chunk-bytes  artifact chunk size (default ${DEFAULT_CHUNK_BYTES})
  --probation-s  seconds of healthy driving before robots keep it (default ${DEFAULT_PROBATION.seconds}; 0: none)
  --max-jitter   steering jitter that rolls it back (default ${DEFAULT_PROBATION.maxJitter})`;

const STORE_USAGE = (cmd: string, extra: string): string =>
  `usage: fadnet ota ${cmd} [--store DIR]${extra}\n\n  --store  the robot's model store (default ota-store, the OTA node's model_store)`;

export async function otaPublishCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    fleet: { type: 'string' },
    model: { type: 'string' },
    key: { type: 'string' },
    broker: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
    signer: { type: 'string' },
    'allow-downgrade': { type: 'boolean', default: false },
    'latency-budget-ms': { type: 'string', default: String(DEFAULT_LATENCY_BUDGET_MS) },
    tolerance: { type: 'string', default: String(DEFAULT_TOLERANCE) },
    golden: { type: 'string', default: String(DEFAULT_GOLDEN_COUNT) },
    'chunk-bytes': { type: 'string', default: String(DEFAULT_CHUNK_BYTES) },
    'probation-s': { type: 'string', default: String(DEFAULT_PROBATION.seconds) },
    'max-jitter': { type: 'string', default: String(DEFAULT_PROBATION.maxJitter) },
  });
  if (parsed.help) {
    console.log(PUBLISH_USAGE);
    return 0;
  }
  const v = parsed.values;
  const fleet = requiredArg('--fleet', v.fleet);
  const model = requiredArg('--model', v.model);
  const keyFile = requiredArg('--key', v.key);
  const latencyBudgetMs = numberArg('--latency-budget-ms', v['latency-budget-ms'], { above: 0 });
  const tolerance = numberArg('--tolerance', v.tolerance, { above: 0 });
  const goldenCount = numberArg('--golden', v.golden, { integer: true, min: 1, max: 256 });
  const chunkBytes = numberArg('--chunk-bytes', v['chunk-bytes'], {
    integer: true,
    min: 1024,
    max: 16 * 1024 * 1024,
  });
  const seconds = numberArg('--probation-s', v['probation-s'], { min: 0, max: 86_400 });
  const maxJitter = numberArg('--max-jitter', v['max-jitter'], { above: 0 });
  const signer = v.signer ?? path.basename(keyFile).replace(/\.key$/, '');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(signer))
    throw new UsageError(`--signer must be 1-64 letters, digits, - or _, got "${signer}"`);
  const keys = await readSiloKeyFile(keyFile);
  const built = await buildRelease(model, {
    fleet,
    signer,
    privateKey: keys.privateKey,
    allowDowngrade: v['allow-downgrade'],
    chunkBytes,
    goldenCount,
    tolerance,
    latencyBudgetMs,
    probation: { seconds, maxJitter },
  });
  const sent = await publishRelease(v.broker, built);
  const r = built.release;
  console.log(
    `published ${r.name}@${r.version} to fleet ${fleet} on ${v.broker}: ${sent.chunks} chunks, ${sent.bytes} bytes, artifact sha256 ${r.artifact.sha256.slice(0, 12)}…, signed by ${signer}`,
  );
  return 0;
}

export async function otaStatusCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    store: { type: 'string', default: 'ota-store' },
    json: { type: 'boolean', default: false },
  });
  if (parsed.help) {
    console.log(STORE_USAGE('status', ' [--json]'));
    return 0;
  }
  const store = await ModelStore.attach(path.resolve(parsed.values.store), { log: () => {} });
  const pointer = store.pointer;
  const state = await store.readState();
  if (parsed.values.json) {
    console.log(JSON.stringify({ store: store.dir, pointer: pointer ?? null, state: state ?? null }));
    return 0;
  }
  console.log(`model store ${store.dir}`);
  console.log(
    `  active    ${pointer === undefined ? 'none' : `${pointer.active.version} (${pointer.reason})`}`,
  );
  console.log(`  previous  ${pointer?.previous?.version ?? 'none'}`);
  console.log(`  ota       ${state === undefined ? 'no state yet' : statusLine(state)}`);
  return 0;
}

export async function otaRollbackCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    store: { type: 'string', default: 'ota-store' },
    reason: { type: 'string', default: 'operator request' },
  });
  if (parsed.help) {
    console.log(STORE_USAGE('rollback', ' [--reason TEXT]'));
    return 0;
  }
  const store = await ModelStore.attach(path.resolve(parsed.values.store), { log: () => {} });
  const from = store.pointer?.active;
  const fromContents = from === undefined ? undefined : await store.verified(from.version);
  const p = await store.rollback(parsed.values.reason);
  // The agent must not install the release it was rolled back from again.
  const release = fromContents?.release;
  if (release !== null && release !== undefined)
    await store.recordRejection(release.artifact.sha256, release.version, 'manual', parsed.values.reason);
  console.log(
    `rolled back to ${p.active.version} (from ${p.previous?.version ?? 'none'}): ${parsed.values.reason}`,
  );
  return 0;
}

export type DrillCommand = (args: string[]) => Promise<number>;

export async function otaCommand(args: string[], drill: () => Promise<DrillCommand>): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'publish':
      return otaPublishCommand(rest);
    case 'status':
      return otaStatusCommand(rest);
    case 'rollback':
      return otaRollbackCommand(rest);
    case 'drill':
      return (await drill())(rest);
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return 0;
    default:
      console.error(sub === undefined ? USAGE : `fadnet ota: unknown command "${sub}"\n\n${USAGE}`);
      return 2;
  }
}

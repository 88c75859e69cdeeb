// `fadnet ota drill`: the OTA faults end to end on this machine. A real broker (embedded aedes,
// or --broker), a publisher, the update agent as its own process killed with SIGKILL in the
// middle of the download, of staging and of the swap, and a steering node in a closed loop that
// follows the store during every swap. Then every rejection the agent must make, and a rollback
// after a failed probation. Each scenario ends with the store checked: the pointer names one
// complete, verified model.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureDir, round3 } from '../../common/index.ts';
import { readWeightsFile, writeModelPackage } from '../../models/src/files.ts';
import { sha256Hex } from '../../models/src/manifest.ts';
import {
  addTrustedKey,
  generateSiloKeys,
  publicKeyPem,
  startEmbeddedBroker,
  type SiloKeys,
} from '../exchange/index.ts';
import { DrillRig, type DrillWorld } from './drill-rig.ts';
import type { OtaReasonKind } from './status.ts';
import {
  bundlePackage,
  finishRelease,
  goldenOutputs,
  makeGoldenFrames,
  publishRelease,
  readPackageFiles,
  releaseFields,
  type BuiltRelease,
  type PackageFiles,
  type ReleaseOptions,
} from './publish.ts';
import { signRelease, type Release, type UnsignedRelease } from './release.ts';

export const SCENARIOS = [
  'kill-download',
  'kill-staging',
  'kill-swap',
  'kill-probation',
  'update',
  'corrupt-chunk',
  'bad-signature',
  'unknown-signer',
  'wrong-hash',
  'downgrade',
  'golden-mismatch',
  'latency-budget',
  'load-failure',
  'probation-rollback',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScenarioResult {
  readonly name: ScenarioName;
  readonly passed: boolean;
  /** The model the store's pointer names at the end, and whether it verifies. */
  readonly active: string;
  readonly model_intact: boolean;
  /** The rejection or rollback reason the agent published, for the fault scenarios. */
  readonly reason: { readonly kind: OtaReasonKind; readonly message: string } | null;
  readonly detail: string;
}

export interface DrillResult {
  readonly scenarios: number;
  readonly passed: number;
  readonly frames_dropped_during_swap: number;
  readonly model_intact: boolean;
  readonly results: readonly ScenarioResult[];
  /** Measured figures: swaps, warm-up, download sizes. */
  readonly numbers: {
    readonly swaps: number;
    readonly frames_during_swaps: number;
    readonly warm_ms: readonly number[];
    readonly max_answer_gap_during_swap_ms: number;
    readonly artifact_bytes: number;
    readonly chunks: number;
    readonly chunks_held_at_kill: number;
    readonly chunks_resumed: number;
    readonly validation_p99_ms: number | null;
    readonly wall_s: number;
  };
}

export interface DrillOptions {
  /** An MQTT broker; without it an embedded aedes broker on a free loopback port. */
  readonly brokerUrl?: string;
  readonly world: DrillWorld;
  /** argv that runs `fadnet` (the agent is started as `fadnet node ota`). */
  readonly fadnet: readonly string[];
  /** The factory model package's manifest (the "old" model). */
  readonly seedManifest: string;
  readonly scenarios?: readonly ScenarioName[];
  readonly log?: (line: string) => void;
}

const FLEET_PREFIX = 'drill';
const ROBOT = 'robot-1';
const CHUNK_BYTES = 64 * 1024;

interface Kit {
  readonly rig: DrillRig;
  readonly url: string;
  readonly fleet: string;
  readonly signer: SiloKeys;
  readonly intruder: SiloKeys;
  readonly newPkg: PackageFiles;
  readonly frames: Float32Array[];
  readonly expected: number[];
  readonly numbers: { artifactBytes: number; chunks: number; heldAtKill: number; resumed: number };
}

function withVersion(pkg: PackageFiles, version: string): PackageFiles {
  const manifest = { ...pkg.manifest, version };
  return {
    ...pkg,
    manifest,
    manifestBytes: new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`),
  };
}

function releaseOptions(kit: Kit, o: Partial<ReleaseOptions> = {}): Omit<ReleaseOptions, 'privateKey'> {
  return {
    fleet: kit.fleet,
    signer: 'release',
    chunkBytes: CHUNK_BYTES,
    // The drill runs on a shared machine: a budget that judges the model, not the neighbours'
    // load (the latency scenario sets an impossible one).
    latencyBudgetMs: 1000,
    probation: { seconds: 2, maxJitter: 0.5 },
    ...o,
  };
}

/** A release of `pkg`, its fields changed by `tweak` before signing with `key`. */
function craft(
  kit: Kit,
  pkg: PackageFiles,
  o: Partial<ReleaseOptions> = {},
  tweak: (r: UnsignedRelease) => UnsignedRelease = (r) => r,
  key = kit.signer,
): BuiltRelease {
  const artifact = bundlePackage(pkg, kit.frames);
  const release = signRelease(
    tweak(releaseFields(pkg, artifact, kit.expected, releaseOptions(kit, o))),
    key.privateKey,
  );
  return finishRelease(release, artifact);
}

async function publish(kit: Kit, built: BuiltRelease): Promise<void> {
  kit.rig.clearStatuses();
  await publishRelease(kit.url, built);
}

type Run = (kit: Kit) => Promise<Omit<ScenarioResult, 'name' | 'active' | 'model_intact'>>;

const lineCount = (s: string, re: RegExp): number => Number(re.exec(s)?.[1] ?? Number.NaN);

/** A refused release: the status names the reason, the old model keeps driving. */
function rejection(
  kind: OtaReasonKind,
  version: string,
  build: (kit: Kit) => BuiltRelease | Promise<BuiltRelease>,
): Run {
  return async (kit) => {
    const before = kit.rig.steeringModel;
    const answered = kit.rig.answeredFrames;
    await publish(kit, await build(kit));
    const s = await kit.rig.waitStatus(
      `the agent to refuse ${version} (${kind})`,
      (st) => st.release?.version === version && st.reason?.kind === kind,
    );
    // Frames keep being answered by the same model after the refusal.
    const end = Date.now() + 500;
    while (Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50));
    const drove = kit.rig.answeredFrames > answered;
    const same = kit.rig.steeringModel === before;
    return {
      passed: drove && same && s.active === before.split('@')[1],
      reason: s.reason,
      detail: `${version} refused (${s.state}); ${before} kept driving (${kit.rig.answeredFrames - answered} frames answered meanwhile)`,
    };
  };
}

const RUNS: Record<ScenarioName, Run> = {
  'kill-download': async (kit) => {
    // The robot is offline when the release is published: it finds it retained when it starts.
    await publish(kit, craft(kit, kit.newPkg));
    kit.rig.startAgent('download:10');
    await kit.rig.waitAgentLine(/paused at download/);
    await kit.rig.killAgent();
    kit.numbers.heldAtKill = await kit.rig.chunksOnDisk();
    return {
      passed: kit.numbers.heldAtKill >= 10 && kit.rig.steeringModel.endsWith('@1.1.0'),
      reason: null,
      detail: `SIGKILL with ${kit.numbers.heldAtKill} of ${kit.numbers.chunks} chunks on disk; 1.1.0 kept driving`,
    };
  },
  'kill-staging': async (kit) => {
    kit.rig.startAgent('staging');
    const resumed = await kit.rig.waitAgentLine(/resuming 1\.2\.0 with \d+ of/);
    kit.numbers.resumed = lineCount(resumed, /with (\d+) of/);
    await kit.rig.waitAgentLine(/paused at staging/);
    await kit.rig.killAgent();
    return {
      passed: kit.numbers.resumed >= kit.numbers.heldAtKill && kit.rig.steeringModel.endsWith('@1.1.0'),
      reason: null,
      detail: `the download resumed from ${kit.numbers.resumed} chunks held; SIGKILL with half a package in staging`,
    };
  },
  'kill-swap': async (kit) => {
    kit.rig.startAgent('swap');
    await kit.rig.waitAgentLine(/paused at swap/);
    await kit.rig.killAgent();
    return {
      passed: kit.rig.steeringModel.endsWith('@1.1.0'),
      reason: null,
      detail: 'SIGKILL with 1.2.0 committed and validated, the pointer not yet moved',
    };
  },
  'kill-probation': async (kit) => {
    kit.rig.startAgent('probation');
    await kit.rig.waitAgentLine(/paused at probation/);
    const fetched = kit.rig.agentLines.some((l) => / downloading /.test(l));
    // The pointer has moved: the steering node takes the new model, with the agent gone.
    await kit.rig.waitSteering('fadnet-sim@1.2.0');
    await kit.rig.killAgent();
    return {
      passed: !fetched,
      reason: null,
      detail: `restarted, the agent activated the committed 1.2.0 without fetching it again; the steering node swapped to it; SIGKILL in its probation`,
    };
  },
  update: async (kit) => {
    kit.rig.clearStatuses();
    kit.rig.startAgent();
    await kit.rig.waitAgentLine(/resuming the probation of 1\.2\.0/);
    const s = await kit.rig.waitStatus(
      '1.2.0 to pass probation',
      (st) => st.state === 'active' && st.active === '1.2.0',
    );
    return {
      passed: s.previous === '1.1.0' && kit.rig.steeringModel === 'fadnet-sim@1.2.0',
      reason: null,
      detail: `restarted, the agent resumed the probation of 1.2.0 from its saved state; the steering node drove it healthy and it was kept, ${s.previous} kept for rollback`,
    };
  },
  'corrupt-chunk': rejection('corrupt_chunk', '1.3.0', (kit) => {
    const built = craft(kit, withVersion(kit.newPkg, '1.3.0'));
    const chunks = built.chunks.map((c) => c.slice());
    const bad = chunks[2]!;
    bad[100] = bad[100]! ^ 0xff;
    return { ...built, chunks };
  }),
  'bad-signature': rejection('bad_signature', '1.3.1', (kit) => {
    const built = craft(kit, withVersion(kit.newPkg, '1.3.1'));
    // Signed with a wider tolerance, published with the tight one: the fields no longer match.
    const forged = craft(kit, withVersion(kit.newPkg, '1.3.1'), { tolerance: 0.5 });
    const release: Release = { ...built.release, sig: forged.release.sig };
    return finishRelease(release, built.artifact);
  }),
  'unknown-signer': rejection('unknown_signer', '1.3.2', (kit) =>
    craft(kit, withVersion(kit.newPkg, '1.3.2'), { signer: 'intruder' }, undefined, kit.intruder),
  ),
  'wrong-hash': rejection('artifact_hash', '1.3.3', (kit) =>
    craft(kit, withVersion(kit.newPkg, '1.3.3'), {}, (r) => ({
      ...r,
      artifact: { ...r.artifact, sha256: sha256Hex(new TextEncoder().encode('another artifact')) },
    })),
  ),
  downgrade: rejection('downgrade', '1.0.0', (kit) => craft(kit, withVersion(kit.newPkg, '1.0.0'))),
  'golden-mismatch': rejection('golden_mismatch', '1.3.4', (kit) =>
    craft(kit, withVersion(kit.newPkg, '1.3.4'), {}, (r) => ({
      ...r,
      golden: { ...r.golden, expected: r.golden.expected.map((v) => v + 0.05) },
    })),
  ),
  'latency-budget': rejection('latency_budget', '1.3.5', (kit) =>
    craft(kit, withVersion(kit.newPkg, '1.3.5'), { latencyBudgetMs: 0.0001 }),
  ),
  'load-failure': rejection('load_failed', '1.3.6', (kit) => {
    // Hashes all consistent, the ONNX bytes not a model: only loading it finds out.
    const onnx = new Uint8Array(kit.newPkg.onnx.byteLength).fill(7);
    const manifest = {
      ...kit.newPkg.manifest,
      version: '1.3.6',
      onnx: { ...kit.newPkg.manifest.onnx, sha256: sha256Hex(onnx) },
    };
    const pkg: PackageFiles = {
      ...kit.newPkg,
      onnx,
      manifest,
      manifestBytes: new TextEncoder().encode(JSON.stringify(manifest)),
    };
    return craft(kit, pkg);
  }),
  'probation-rollback': async (kit) => {
    // A model that loads and validates, then drives with more jitter than its release allows.
    await publish(
      kit,
      craft(kit, withVersion(kit.newPkg, '1.4.0'), { probation: { seconds: 5, maxJitter: 1e-9 } }),
    );
    const s = await kit.rig.waitStatus('the rollback from 1.4.0', (st) => st.state === 'rolled_back');
    await kit.rig.waitSteering('fadnet-sim@1.2.0');
    return {
      passed: s.active === '1.2.0' && s.previous === '1.4.0' && s.reason?.kind === 'jitter',
      reason: s.reason,
      detail: `1.4.0 drove in probation, failed it, and the steering node is back on 1.2.0`,
    };
  },
};

export async function runDrill(o: DrillOptions): Promise<DrillResult> {
  const wallStart = performance.now();
  const log = o.log ?? (() => {});
  const work = await mkdtemp(path.join(tmpdir(), 'fadnet-ota-drill-'));
  const broker =
    o.brokerUrl === undefined ? await startEmbeddedBroker({ host: '127.0.0.1', port: 0 }) : undefined;
  const url = o.brokerUrl ?? broker!.url;
  const fleet = `${FLEET_PREFIX}-${process.pid}-${Date.now().toString(36)}`;
  let rig: DrillRig | undefined;
  const results: ScenarioResult[] = [];
  try {
    const signer = generateSiloKeys();
    const intruder = generateSiloKeys();
    const trusted = path.join(work, 'trusted.json');
    await addTrustedKey(trusted, 'release', publicKeyPem(signer.publicKey));
    // The new model: the factory weights exported again as 1.2.0 (a new ONNX file, a new hash).
    const newDir = path.join(work, 'release-1.2.0');
    await ensureDir(newDir);
    const seed = await readPackageFiles(o.seedManifest);
    const weightsFile = path.join(path.dirname(o.seedManifest), seed.manifest.weights?.file ?? '');
    const written = await writeModelPackage({
      dir: newDir,
      name: seed.manifest.name,
      version: '1.2.0',
      weights: await readWeightsFile(weightsFile),
      provenance: {
        ...seed.manifest.provenance,
        date: new Date().toISOString(),
        parent: `${seed.manifest.name}@${seed.manifest.version}`,
      },
    });
    const newPkg = await readPackageFiles(written.manifestPath);
    const frames = makeGoldenFrames(8, newPkg.manifest.input.height, newPkg.manifest.input.width);
    const expected = await goldenOutputs(newPkg, frames);
    const store = path.join(work, 'store');
    const agentParams = path.join(work, 'ota.yaml');
    await writeFile(
      agentParams,
      [
        'fadnet_ota:',
        '  ros__parameters:',
        `    fleet: ${fleet}`,
        `    robot_id: ${ROBOT}`,
        `    broker_url: "${url}"`,
        `    model_store: "${store}"`,
        `    model_manifest: "${path.resolve(o.seedManifest)}"`,
        `    trusted_keys: "${trusted}"`,
        '    execution_providers: [cpu]',
        '    probation_poll_ms: 100.0',
        '    load_grace_s: 30.0',
        '',
      ].join('\n'),
    );
    rig = await DrillRig.start({
      brokerUrl: url,
      fleet,
      robot: ROBOT,
      store,
      agentParamsFile: agentParams,
      fadnet: o.fadnet,
      seed: path.resolve(o.seedManifest),
      world: o.world,
      log,
    });
    const probe = craft(
      {
        rig,
        url,
        fleet,
        signer,
        intruder,
        newPkg,
        frames,
        expected,
        numbers: { artifactBytes: 0, chunks: 0, heldAtKill: 0, resumed: 0 },
      },
      newPkg,
    );
    const kit: Kit = {
      rig,
      url,
      fleet,
      signer,
      intruder,
      newPkg,
      frames,
      expected,
      numbers: {
        artifactBytes: probe.artifact.byteLength,
        chunks: probe.chunks.length,
        heldAtKill: 0,
        resumed: 0,
      },
    };
    const wanted = new Set(o.scenarios ?? SCENARIOS);
    for (const name of SCENARIOS) {
      if (!wanted.has(name)) continue;
      log(`drill: scenario ${name}`);
      let outcome: Omit<ScenarioResult, 'name' | 'active' | 'model_intact'>;
      try {
        outcome = await RUNS[name](kit);
      } catch (error) {
        outcome = { passed: false, reason: null, detail: `failed: ${(error as Error).message}` };
      }
      const check = await rig.intact();
      results.push({
        name,
        ...outcome,
        passed: outcome.passed && check.intact,
        active: check.active,
        model_intact: check.intact,
        detail: check.intact ? outcome.detail : `${outcome.detail}; ${check.detail}`,
      });
      log(
        `drill: ${name}: ${outcome.passed && check.intact ? 'passed' : 'FAILED'}: ${results.at(-1)!.detail}`,
      );
    }
    // The last swap's window is judged a second after it.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const swaps = rig.swaps;
    const validation = rig.allAgentLines
      .map((l) => /p99 ([\d.]+) ms \(budget/.exec(l)?.[1])
      .find((v) => v !== undefined);
    return {
      scenarios: results.length,
      passed: results.filter((r) => r.passed).length,
      frames_dropped_during_swap: swaps.reduce((n, s) => n + s.dropped, 0),
      model_intact: results.every((r) => r.model_intact),
      results,
      numbers: {
        swaps: swaps.length,
        frames_during_swaps: swaps.reduce((n, s) => n + s.frames, 0),
        warm_ms: swaps.map((s) => s.warmMs),
        max_answer_gap_during_swap_ms: Math.max(0, ...swaps.map((s) => s.maxGapMs)),
        artifact_bytes: kit.numbers.artifactBytes,
        chunks: kit.numbers.chunks,
        chunks_held_at_kill: kit.numbers.heldAtKill,
        chunks_resumed: kit.numbers.resumed,
        validation_p99_ms: validation === undefined ? null : Number(validation),
        wall_s: round3((performance.now() - wallStart) / 1000),
      },
    };
  } finally {
    await rig?.stop();
    await broker?.close();
    await rm(work, { recursive: true, force: true });
  }
}

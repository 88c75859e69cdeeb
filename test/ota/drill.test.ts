// The drill's scenarios as tests: a real embedded broker, the update agent as a real process
// killed with SIGKILL during the download, staging and the swap, the steering node driving the
// simulator's held-out world through every swap, every rejection with its exact reason, and a
// rollback after a failed probation. Each scenario must end with the store's pointer on one
// complete, verified model.
import { beforeAll, describe, expect, it } from 'vitest';
import { FADNET_ARGV, SEED_MANIFEST, simDrillWorld } from '../../bin/ota-drill.ts';
import { runDrill, SCENARIOS, type DrillResult, type ScenarioName } from '../../fleet/ota/drill.ts';
import { sha256Hex } from '../../models/src/manifest.ts';

let result: DrillResult;
beforeAll(async () => {
  result = await runDrill({ world: await simDrillWorld(), fadnet: FADNET_ARGV, seedManifest: SEED_MANIFEST });
}, 300_000);

const said = sha256Hex(new TextEncoder().encode('another artifact')).slice(0, 12);

/** The reason each fault scenario must give, exactly (hashes and timings as patterns). */
const REASONS: Partial<Record<ScenarioName, [string, RegExp]>> = {
  'corrupt-chunk': [
    'corrupt_chunk',
    /^release 1\.3\.0: chunk 2 of 62 has sha256 [0-9a-f]{12}…, not the signed one$/,
  ],
  'bad-signature': [
    'bad_signature',
    /^release 1\.3\.1: the signature does not verify against release's trusted key$/,
  ],
  'unknown-signer': [
    'unknown_signer',
    /^release 1\.3\.2 is signed by intruder, which is not in this robot's trusted keys$/,
  ],
  'wrong-hash': [
    'artifact_hash',
    new RegExp(`^release 1\\.3\\.3: the artifact's sha256 is [0-9a-f]{12}…, the release says ${said}…$`),
  ],
  downgrade: [
    'downgrade',
    /^release 1\.0\.0 is not newer than the active 1\.2\.0 and does not allow a downgrade$/,
  ],
  'golden-mismatch': [
    'golden_mismatch',
    /^release 1\.3\.4: golden input 0 gives (-?\d\.\d{6}), expected (-?\d\.\d{6}) \(tolerance 0\.001\)$/,
  ],
  'latency-budget': [
    'latency_budget',
    /^release 1\.3\.5: inference p99 \d+\.\d{3} ms is over the budget of 0\.0001 ms$/,
  ],
  'load-failure': [
    'load_failed',
    /^release 1\.3\.6 does not load in ONNX Runtime: no execution provider could start the model \(cpu: Failed to load model because protobuf parsing failed\.\)$/,
  ],
  'probation-rollback': [
    'jitter',
    /^fadnet-sim@1\.4\.0: steering jitter \d\.\d{4} is past the threshold 1e-9$/,
  ],
};

const ACTIVE_AFTER: Record<ScenarioName, string> = {
  'kill-download': '1.1.0',
  'kill-staging': '1.1.0',
  'kill-swap': '1.1.0',
  'kill-probation': '1.2.0',
  update: '1.2.0',
  'corrupt-chunk': '1.2.0',
  'bad-signature': '1.2.0',
  'unknown-signer': '1.2.0',
  'wrong-hash': '1.2.0',
  downgrade: '1.2.0',
  'golden-mismatch': '1.2.0',
  'latency-budget': '1.2.0',
  'load-failure': '1.2.0',
  'probation-rollback': '1.2.0',
};

describe('ota drill', () => {
  it('runs every scenario and ends each on a complete verified model', () => {
    expect(result.results.map((r) => r.name)).toEqual([...SCENARIOS]);
    expect({ scenarios: result.scenarios, model_intact: result.model_intact }).toEqual({
      scenarios: 14,
      model_intact: true,
    });
  });

  for (const name of SCENARIOS) {
    it(name, () => {
      const r = result.results.find((x) => x.name === name)!;
      expect({ passed: r.passed, intact: r.model_intact, active: r.active }, r.detail).toEqual({
        passed: true,
        intact: true,
        active: ACTIVE_AFTER[name],
      });
      const reason = REASONS[name];
      if (reason === undefined) expect(r.reason).toBeNull();
      else {
        expect(r.reason?.kind).toBe(reason[0]);
        expect(r.reason?.message).toMatch(reason[1]);
      }
    });
  }

  it('resumed the interrupted download from the chunks it held', () => {
    expect(result.numbers.chunks_held_at_kill).toBe(10);
    expect(result.numbers.chunks_resumed).toBe(10);
    expect(result.numbers.chunks).toBe(62);
  });

  it('golden outputs that differ are named with both values', () => {
    const m = REASONS['golden-mismatch']![1].exec(
      result.results.find((x) => x.name === 'golden-mismatch')!.reason!.message,
    )!;
    expect(Number(m[1]) - Number(m[2])).toBeCloseTo(-0.05, 5);
  });

  it('swapped models three times (the update, to 1.4.0 and back) without dropping a frame', () => {
    expect(result.numbers.swaps).toBe(3);
    expect(result.frames_dropped_during_swap).toBe(0);
  });
});

// The pure cores of OTA: the signed release (every field under the signature, each refusal's
// exact reason), the upgrade rule, version precedence, the artifact bundle byte by byte, the
// probation verdicts and the topic layout.
import { describe, expect, it } from 'vitest';
import { generateSiloKeys } from '../../fleet/exchange/index.ts';
import {
  BundleFormatError,
  checkRelease,
  compareVersions,
  decodeBundle,
  describeArtifact,
  DowngradeError,
  encodeBundle,
  judgeProbation,
  ReleaseFormatError,
  SignatureError,
  signRelease,
  UnknownSignerError,
  upgradeVerdict,
  WrongFleetError,
  type ProbationCriteria,
  type UnsignedRelease,
} from '../../fleet/ota/index.ts';
import { chunkIndexOf } from '../../fleet/ota/topics.ts';
import type { SteeringHealth } from '../../nodes/steering/health.ts';

const signer = generateSiloKeys();
const trusted = new Map([['release', signer.publicKey]]);
const artifact = new Uint8Array(5000).map((_, i) => (i * 31) & 0xff);

const unsigned: UnsignedRelease = {
  v: 1,
  fleet: 'lab',
  name: 'fadnet-sim',
  version: '1.2.0',
  signer: 'release',
  createdAt: 1_800_000_000_000,
  allowDowngrade: false,
  artifact: describeArtifact(artifact, 1024),
  golden: { expected: [0.125, -0.5], tolerance: 0.001 },
  latencyBudgetMs: 50,
  probation: { seconds: 10, maxJitter: 0.5 },
};
const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

describe('release manifest', () => {
  it('describes the artifact: five 1 KiB chunks, the last one short', () => {
    expect(unsigned.artifact.chunks).toHaveLength(5);
    expect(unsigned.artifact.bytes).toBe(5000);
  });

  it('verifies as signed', () => {
    const r = signRelease(unsigned, signer.privateKey);
    expect(checkRelease(encode(r), 'lab', trusted)).toEqual(r);
  });

  // Every field is under the signature: changed after signing, the release is refused.
  const changes: [string, (r: UnsignedRelease) => UnsignedRelease][] = [
    ['name', (r) => ({ ...r, name: 'other' })],
    ['createdAt', (r) => ({ ...r, createdAt: r.createdAt + 1 })],
    ['allowDowngrade', (r) => ({ ...r, allowDowngrade: true })],
    ['artifact.bytes', (r) => ({ ...r, artifact: { ...r.artifact, bytes: 4999 } })],
    ['artifact.sha256', (r) => ({ ...r, artifact: { ...r.artifact, sha256: 'a'.repeat(64) } })],
    [
      'artifact.chunks',
      (r) => ({
        ...r,
        artifact: { ...r.artifact, chunks: [...r.artifact.chunks.slice(1), r.artifact.chunks[0]!] },
      }),
    ],
    ['golden.expected', (r) => ({ ...r, golden: { ...r.golden, expected: [0.125, -0.4] } })],
    ['golden.tolerance', (r) => ({ ...r, golden: { ...r.golden, tolerance: 0.5 } })],
    ['latencyBudgetMs', (r) => ({ ...r, latencyBudgetMs: 500 })],
    ['probation.maxJitter', (r) => ({ ...r, probation: { ...r.probation, maxJitter: 5 } })],
    ['probation.seconds', (r) => ({ ...r, probation: { ...r.probation, seconds: 0 } })],
  ];
  for (const [field, change] of changes) {
    it(`refuses a release whose ${field} changed after signing`, () => {
      const { sig, ...rest } = signRelease(unsigned, signer.privateKey);
      const forged = { ...change(rest), sig };
      expect(() => checkRelease(encode(forged), 'lab', trusted)).toThrow(
        new SignatureError('release', forged.version),
      );
      expect(() => checkRelease(encode(forged), 'lab', trusted)).toThrow(
        `release ${forged.version}: the signature does not verify against release's trusted key`,
      );
    });
  }

  it('refuses a changed version under its claimed version', () => {
    const r = { ...signRelease(unsigned, signer.privateKey), version: '9.0.0' };
    expect(() => checkRelease(encode(r), 'lab', trusted)).toThrow(
      "release 9.0.0: the signature does not verify against release's trusted key",
    );
  });

  it('refuses an unknown signer, naming it', () => {
    const intruder = generateSiloKeys();
    const r = signRelease({ ...unsigned, signer: 'intruder' }, intruder.privateKey);
    expect(() => checkRelease(encode(r), 'lab', trusted)).toThrow(UnknownSignerError);
    expect(() => checkRelease(encode(r), 'lab', trusted)).toThrow(
      "release 1.2.0 is signed by intruder, which is not in this robot's trusted keys",
    );
  });

  it('refuses a key that signs under another signer id', () => {
    const intruder = generateSiloKeys();
    const r = signRelease(unsigned, intruder.privateKey);
    expect(() => checkRelease(encode(r), 'lab', trusted)).toThrow(SignatureError);
  });

  it("refuses another fleet's release", () => {
    const r = signRelease({ ...unsigned, fleet: 'other' }, signer.privateKey);
    expect(() => checkRelease(encode(r), 'lab', trusted)).toThrow(new WrongFleetError('other', 'lab'));
    expect(() => checkRelease(encode(r), 'lab', trusted)).toThrow(
      'release is for fleet other, this robot is in fleet lab',
    );
  });

  it('refuses what is not a release, with the reason', () => {
    expect(() => checkRelease(new TextEncoder().encode('{"v":1'), 'lab', trusted)).toThrow(
      new ReleaseFormatError('release manifest is not JSON'),
    );
    const r = signRelease(unsigned, signer.privateKey);
    const short = { ...r, artifact: { ...r.artifact, chunks: r.artifact.chunks.slice(1) } };
    expect(() => checkRelease(encode(short), 'lab', trusted)).toThrow(
      'release manifest is malformed: ✖ chunks must list ceil(bytes / chunkBytes) hashes at artifact.chunks',
    );
    expect(() => checkRelease(encode({ ...r, extra: 1 }), 'lab', trusted)).toThrow(ReleaseFormatError);
  });
});

describe('upgrade rule', () => {
  const r = signRelease(unsigned, signer.privateKey);
  it('installs a newer release, or on a robot without a model', () => {
    expect(upgradeVerdict(r, { version: '1.1.0' })).toBe('install');
    expect(upgradeVerdict(r, undefined)).toBe('install');
  });
  it('does nothing for the version that is active', () => {
    expect(upgradeVerdict(r, { version: '1.2.0' })).toBe('current');
  });
  it('refuses a downgrade unless the release allows it', () => {
    expect(() => upgradeVerdict(r, { version: '1.10.0' })).toThrow(new DowngradeError('1.2.0', '1.10.0'));
    expect(() => upgradeVerdict(r, { version: '1.10.0' })).toThrow(
      'release 1.2.0 is not newer than the active 1.10.0 and does not allow a downgrade',
    );
    expect(upgradeVerdict({ ...r, allowDowngrade: true }, { version: '1.10.0' })).toBe('install');
  });
  it('orders versions as semver does', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.2.0',
      '1.10.0',
      '2.0.0',
    ];
    for (let i = 1; i < ordered.length; i++) {
      expect(compareVersions(ordered[i - 1]!, ordered[i]!), `${ordered[i - 1]} < ${ordered[i]}`).toBe(-1);
      expect(compareVersions(ordered[i]!, ordered[i - 1]!)).toBe(1);
    }
    expect(compareVersions('1.2.0+build.5', '1.2.0')).toBe(0);
  });
});

describe('bundle', () => {
  const files = [
    { name: 'm.manifest.json', data: new TextEncoder().encode('{"a":1}') },
    { name: 'm.onnx', data: new Uint8Array([1, 2, 3, 4, 5]) },
    { name: 'golden.f32', data: new Uint8Array(8) },
  ];
  const bytes = encodeBundle(files);

  it('decodes to the files it holds', () => {
    const out = decodeBundle(bytes, 'b');
    expect([...out.keys()]).toEqual(['m.manifest.json', 'm.onnx', 'golden.f32']);
    expect([...out.get('m.onnx')!]).toEqual([1, 2, 3, 4, 5]);
  });

  // The bundle's own check is each file's sha256; the artifact's signed sha256 covers the rest.
  // A flipped byte is refused, or (inside a file name that stays a valid name) gives a bundle
  // without the file of that name: never the same names with other contents.
  it('refuses every flipped byte of contents and hashes, and every truncation', () => {
    const names = ['m.manifest.json', 'm.onnx', 'golden.f32'];
    let renamed = 0;
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i] = bad[i]! ^ 0x01;
      let decoded: Map<string, Uint8Array> | undefined;
      try {
        decoded = decodeBundle(bad, 'b');
      } catch (error) {
        expect(error, `byte ${i}`).toBeInstanceOf(BundleFormatError);
      }
      if (decoded !== undefined) {
        expect([...decoded.keys()], `byte ${i}`).not.toEqual(names);
        renamed += 1;
      }
    }
    // 26 of the 31 characters of the three names flip (xor 1) to another file-name character.
    expect(renamed).toBe(26);
    for (let n = 0; n < bytes.length; n++)
      expect(() => decodeBundle(bytes.subarray(0, n), 'b'), `${n} bytes`).toThrow(BundleFormatError);
  });

  it('names the problem', () => {
    const bad = bytes.slice();
    bad[bad.length - 9] = bad[bad.length - 9]! ^ 0xff; // inside m.onnx
    expect(() => decodeBundle(bad, 'release 1.2.0')).toThrow(
      'release 1.2.0: m.onnx does not match its sha256',
    );
    expect(() => decodeBundle(new Uint8Array(3), 'x')).toThrow('x: not a model bundle (no "FOTA" magic)');
    const longer = new Uint8Array(bytes.length + 2);
    longer.set(bytes);
    expect(() => decodeBundle(longer, 'x')).toThrow('x: 2 bytes after the last file');
  });
});

describe('probation', () => {
  const c: ProbationCriteria = {
    model: 'fadnet-sim@1.2.0',
    since: 100_000,
    seconds: 10,
    latencyBudgetMs: 50,
    maxJitter: 0.5,
    loadGraceMs: 30_000,
  };
  const report = (o: Partial<SteeringHealth>): SteeringHealth => ({
    v: 1,
    node: 'fadnet_steering',
    model: 'fadnet-sim@1.2.0',
    since: 100_500,
    at: 105_000,
    processed: 100,
    inferenceFailures: 0,
    late: 0,
    watchdogStops: 0,
    inferenceP99Ms: 2,
    jitter: 0.02,
    ...o,
  });

  it('waits while the steering node loads, fails when it never serves the model', () => {
    expect(judgeProbation(undefined, c, 110_000)).toEqual({
      verdict: 'wait',
      detail: 'waiting for the steering node to serve fadnet-sim@1.2.0',
    });
    expect(judgeProbation(report({ model: 'fadnet-sim@1.1.0' }), c, 130_001)).toEqual({
      verdict: 'fail',
      kind: 'not_serving',
      reason:
        'fadnet-sim@1.2.0 was not serving 30.0 s after activation (the steering node reports fadnet-sim@1.1.0)',
    });
  });

  it('waits for the probation time, then passes', () => {
    expect(judgeProbation(report({}), c, 105_000)).toEqual({
      verdict: 'wait',
      detail: 'fadnet-sim@1.2.0 in probation: 100 frames so far',
    });
    expect(judgeProbation(report({ at: 110_500 }), c, 110_500)).toEqual({
      verdict: 'pass',
      detail: 'fadnet-sim@1.2.0 healthy for 10.0 s, 100 frames',
    });
  });

  it('a parked robot stays in probation', () => {
    expect(judgeProbation(report({ at: 200_000, processed: 0, jitter: null }), c, 200_000).verdict).toBe(
      'wait',
    );
  });

  it('fails on each kind of bad health, with the reason', () => {
    expect(judgeProbation(report({ inferenceFailures: 2 }), c, 105_000)).toEqual({
      verdict: 'fail',
      kind: 'inference_errors',
      reason: 'fadnet-sim@1.2.0: 2 inference error(s) in probation',
    });
    expect(judgeProbation(report({ watchdogStops: 1 }), c, 105_000)).toEqual({
      verdict: 'fail',
      kind: 'watchdog_stops',
      reason: 'fadnet-sim@1.2.0: the watchdog stopped the robot 1 time(s) in probation',
    });
    expect(judgeProbation(report({ inferenceP99Ms: 51.5 }), c, 105_000)).toEqual({
      verdict: 'fail',
      kind: 'latency',
      reason: 'fadnet-sim@1.2.0: inference p99 51.500 ms is over the budget of 50 ms',
    });
    expect(judgeProbation(report({ jitter: 0.75 }), c, 105_000)).toEqual({
      verdict: 'fail',
      kind: 'jitter',
      reason: 'fadnet-sim@1.2.0: steering jitter 0.7500 is past the threshold 0.5',
    });
    // Jitter over fewer than 10 results says little: not judged yet.
    expect(judgeProbation(report({ jitter: 0.75, processed: 9 }), c, 105_000).verdict).toBe('wait');
  });
});

describe('topics', () => {
  const sha = 'ab'.repeat(32);
  it('reads chunk indices of one artifact only', () => {
    expect(chunkIndexOf('lab', sha, `fleet/lab/ota/artifact/${sha}/12`)).toBe(12);
    expect(chunkIndexOf('lab', sha, `fleet/lab/ota/artifact/${sha}/012`)).toBeUndefined();
    expect(chunkIndexOf('lab', sha, `fleet/lab/ota/artifact/${'cd'.repeat(32)}/1`)).toBeUndefined();
    expect(chunkIndexOf('lab', sha, `fleet/other/ota/artifact/${sha}/1`)).toBeUndefined();
  });
});

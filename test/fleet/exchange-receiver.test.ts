// The pure receiving core: chunk framing, signatures, reassembly limits, replay, norm and
// weight gates, each refusal with its exact reason, time passed in by hand.
import { describe, expect, it } from 'vitest';

import {
  chunkUpdate,
  encodeChunk,
  encodeTensors,
  encodeWeights,
  generateSiloKeys,
  parseChunk,
  Reassembler,
  sha256Hex,
  signingBytes,
  UpdateReceiver,
  verifyEnvelope,
  type ChunkHeader,
  type Encoding,
  type ReceiveEvent,
  type TrustedKeys,
} from '../../fleet/exchange/index.ts';
import { FADNET_PARAMS } from '../../models/src/weights/spec.ts';
import { initialWeights, type WeightSet } from '../../models/src/weights/weight-set.ts';

const keysA = generateSiloKeys();
const keysB = generateSiloKeys();
const stranger = generateSiloKeys();
const trusted: TrustedKeys = new Map([
  ['a', keysA.publicKey],
  ['b', keysB.publicKey],
]);
const weights = initialWeights(3);

interface UpdateSpec {
  silo?: string;
  round?: number;
  counter?: number;
  encoding?: Encoding;
  payload?: Uint8Array;
  key?: typeof keysA;
  chunkBytes?: number;
  fleet?: string;
}
const chunks = (o: UpdateSpec = {}): Uint8Array[] =>
  chunkUpdate({
    fleet: o.fleet ?? 'f',
    silo: o.silo ?? 'a',
    round: o.round ?? 1,
    counter: o.counter ?? 1,
    encoding: o.encoding ?? 'int8-channel',
    payload: o.payload ?? encodeWeights(weights, o.encoding ?? 'int8-channel'),
    privateKey: (o.key ?? keysA).privateKey,
    chunkBytes: o.chunkBytes ?? 50_000,
  });
const receiver = (): UpdateReceiver => new UpdateReceiver({ fleet: 'f', self: 'b', trusted });
const feed = (r: UpdateReceiver, msgs: Uint8Array[], silo = 'a', now = 0): ReceiveEvent[] =>
  msgs.flatMap((m) => r.receive(silo, m, now));
const rejections = (events: ReceiveEvent[]): string[] =>
  events.flatMap((e) => (e.kind === 'rejected' ? [e.rejection.reason] : []));
const accepted = (events: ReceiveEvent[]) => events.flatMap((e) => (e.kind === 'accepted' ? [e.update] : []));
const headerOf = (msg: Uint8Array): ChunkHeader => {
  const p = parseChunk(msg);
  if (!p.ok) throw new Error(p.reason);
  return p.header;
};
const scaled = (w: WeightSet, k: number): WeightSet =>
  new Map([...w].map(([n, d]) => [n, d.map((v) => v * k)]));

describe('chunk envelope', () => {
  it('frames magic, header length, header JSON and the chunk bytes', () => {
    const payload = Uint8Array.from({ length: 10 }, (_, i) => i);
    const [first, second] = chunkUpdate({
      fleet: 'f',
      silo: 'a',
      round: 2,
      counter: 9,
      encoding: 'f16',
      payload,
      privateKey: keysA.privateKey,
      chunkBytes: 6,
    });
    const h = headerOf(first!);
    expect([...first!.subarray(0, 4)]).toEqual([0x46, 0x58, 0x43, 0x31]);
    expect(new DataView(first!.buffer).getUint32(4, true)).toBe(first!.length - 8 - 6);
    expect([...first!.subarray(first!.length - 6)]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...second!.subarray(second!.length - 4)]).toEqual([6, 7, 8, 9]);
    expect({ ...h, sig: '', chunkSha256: '' }).toEqual({
      v: 1,
      fleet: 'f',
      silo: 'a',
      round: 2,
      counter: 9,
      encoding: 'f16',
      size: 10,
      count: 2,
      sha256: '1f825aa2f0020ef7cf91dfa30da4668d791c5d4824fc8e41354b89ec05795ab3',
      sig: '',
      index: 0,
      offset: 0,
      chunkSha256: '',
    });
    expect(new TextDecoder().decode(signingBytes(h))).toBe(
      'fadnet-fleet-update/v1\nf\na\n2\n9\nf16\n10\n2\n1f825aa2f0020ef7cf91dfa30da4668d791c5d4824fc8e41354b89ec05795ab3',
    );
  });

  it('the signature covers fleet, silo, round, counter, encoding, size, count and payload hash', () => {
    const h = headerOf(chunks()[0]!);
    expect(verifyEnvelope(h, h.sig, keysA.publicKey)).toBe(true);
    expect(verifyEnvelope(h, h.sig, keysB.publicKey)).toBe(false);
    const swaps = [
      { fleet: 'g' },
      { silo: 'b' },
      { round: 2 },
      { counter: 2 },
      { encoding: 'f32' as const },
      { size: h.size - 1 },
      { count: h.count + 1 },
      { sha256: h.sha256.replace(/^./, h.sha256[0] === '0' ? '1' : '0') },
    ];
    for (const swap of swaps) expect(verifyEnvelope({ ...h, ...swap }, h.sig, keysA.publicKey)).toBe(false);
  });

  it('refuses every truncation and every single-byte change of a chunk message', () => {
    const [msg] = chunks({ payload: Uint8Array.from({ length: 40 }, (_, i) => i * 3), chunkBytes: 40 });
    expect(parseChunk(msg!).ok).toBe(true);
    for (let n = 0; n < msg!.length; n++) expect(parseChunk(msg!.subarray(0, n)).ok).toBe(false);
    const headerEnd = 8 + new DataView(msg!.buffer).getUint32(4, true);
    for (let i = 0; i < msg!.length; i++) {
      const bad = Uint8Array.from(msg!);
      bad[i] = bad[i]! ^ 0x01;
      const p = parseChunk(bad);
      // A flipped bit in the header may still parse (e.g. a round or sig character); the
      // signature check refuses those. Data bytes must always fail their sha256.
      if (i >= headerEnd) expect(p.ok).toBe(false);
      if (p.ok) expect(verifyEnvelope(p.header, p.header.sig, keysA.publicKey)).toBe(false);
    }
  });

  it('names what is wrong with a malformed chunk', () => {
    expect(parseChunk(Uint8Array.from([1, 2, 3]))).toEqual({
      ok: false,
      reason: 'not a chunk: missing the "FXC1" magic',
    });
    const [msg] = chunks({ chunkBytes: 1_000_000 });
    const cut = parseChunk(msg!.subarray(0, msg!.length - 1));
    expect(cut.ok ? '' : cut.reason).toBe('chunk 0 of 1: sha256 mismatch (damaged or truncated)');
    const h = headerOf(msg!);
    const forged = parseChunk(encodeChunk({ ...h, index: 5 }, new Uint8Array(1)));
    expect(forged.ok ? '' : forged.reason).toBe(
      'chunk header is malformed: ✖ index must be below count;   → at index',
    );
  });
});

describe('update receiver', () => {
  it('reassembles chunks in any order, once, with the bytes they took on the wire', () => {
    const msgs = chunks();
    expect(msgs.length).toBe(8);
    const r = receiver();
    const shuffled = [msgs[5]!, msgs[0]!, msgs[7]!, msgs[5]!, ...msgs.slice(1, 5), msgs[6]!];
    const events = feed(r, shuffled);
    expect(events.map((e) => e.kind)).toEqual([
      'progress',
      'progress',
      'progress',
      'duplicate',
      ...Array(4).fill('progress'),
      'accepted',
    ]);
    const [update] = accepted(events);
    expect(update!.wireBytes).toBe(msgs.reduce((n, m) => n + m.length, 0));
    expect(update!.silo).toBe('a');
    expect(update!.encoding).toBe('int8-channel');
    expect(update!.weights.get('fc.weight')).toEqual(weights.get('fc.weight'));
    // The retained copy arriving again after a reconnect is a duplicate, not a second model.
    expect(feed(r, msgs).map((e) => e.kind)).toEqual(Array(8).fill('duplicate'));
    expect(r.pending).toBe(0);
  });

  it('refuses unknown signers, forged signatures and updates for another fleet or topic', () => {
    const r = receiver();
    expect(rejections(feed(r, chunks({ silo: 'c', key: stranger }), 'c'))).toEqual([
      'unknown signer: silo "c" is not in the trusted keys',
    ]);
    expect(rejections(feed(r, chunks({ key: stranger })))).toEqual([
      'bad signature: the envelope is not signed by silo "a"\'s key',
    ]);
    expect(rejections(feed(r, chunks({ fleet: 'g' }).slice(0, 1)))).toEqual([
      'chunk for fleet "g" on fleet "f"',
    ]);
    expect(rejections(feed(r, chunks().slice(0, 1), 'b'))).toEqual([
      'chunk signed as silo "a" on silo "b"\'s topic',
    ]);
    expect(r.pending).toBe(0);
  });

  it('accepts an unseen round inside the held window after a newer one, and refuses true replays', () => {
    const r = receiver();
    expect(accepted(feed(r, chunks({ round: 2, counter: 6 })))).toHaveLength(1);
    // Round 1 never arrived (a broker lost it) and is republished after round 2: still wanted.
    const round1 = chunks({ round: 1, counter: 5 });
    expect(accepted(feed(r, round1)).map((u) => [u.round, u.counter])).toEqual([[1, 5]]);
    expect(new Set(feed(r, round1).map((e) => e.kind))).toEqual(new Set(['duplicate']));
    expect(
      rejections(
        feed(
          r,
          chunks({
            round: 3,
            counter: 6,
            payload: encodeWeights(weights, 'int8-channel').fill(1, 9000, 9001),
          }),
        ),
      ),
    ).toEqual(['counter 6 was already used for a different update']);
    expect(rejections(feed(r, chunks({ round: 1, counter: 4 })))).toEqual([
      'replayed: counter 4 (round 1) is older than the accepted counter 5 (round 1)',
    ]);
    expect(rejections(feed(r, chunks({ round: 1, counter: 7 })))).toEqual([
      'replayed: counter 7 (round 1) is not older than the accepted counter 6 of the later round 2',
    ]);
    expect(accepted(feed(r, chunks({ round: 10, counter: 20 })))[0]!.round).toBe(10);
    expect(rejections(feed(r, chunks({ round: 2, counter: 9 })))).toEqual([
      'replayed: round 2 is older than the held window, rounds 3 to 10',
    ]);
    expect(rejections(feed(r, round1))).toEqual([
      'replayed: round 1 is older than the held window, rounds 3 to 10',
    ]);
    // Inside the window, between the counters of rounds 2 and 10.
    expect(accepted(feed(r, chunks({ round: 3, counter: 8 })))[0]!.round).toBe(3);
    // A round published again with a newer counter replaces the round's update.
    expect(accepted(feed(r, chunks({ round: 10, counter: 21 })))[0]!.counter).toBe(21);
    expect(rejections(feed(r, chunks({ round: 4, counter: 20 })))).toEqual([
      'counter 20 was already used for a different update',
    ]);
  });

  it('keeps reassembling an older round after a newer round of the silo was accepted', () => {
    const r = receiver();
    const round1 = chunks({ round: 1, counter: 5, chunkBytes: 20_000 });
    expect(round1.length).toBeGreaterThan(2);
    expect(feed(r, round1.slice(0, 2)).map((e) => e.kind)).toEqual(['progress', 'progress']);
    expect(accepted(feed(r, chunks({ round: 2, counter: 6 })))).toHaveLength(1);
    expect(r.pending).toBe(1);
    expect(accepted(feed(r, round1.slice(2))).map((u) => u.round)).toEqual([1]);
    expect(r.pending).toBe(0);
  });

  it('a smaller held window refuses what falls out of it', () => {
    const r = new UpdateReceiver({ fleet: 'f', self: 'b', trusted, heldRounds: 2 });
    expect(accepted(feed(r, chunks({ round: 3, counter: 6 })))).toHaveLength(1);
    expect(accepted(feed(r, chunks({ round: 2, counter: 5 })))).toHaveLength(1);
    expect(rejections(feed(r, chunks({ round: 1, counter: 4 })))).toEqual([
      'replayed: round 1 is older than the held window, rounds 2 to 3',
    ]);
  });

  it('refuses wrong shapes and non-finite values from a trusted signer without recording them', () => {
    const r = receiver();
    const tensors = FADNET_PARAMS.map((p) => ({ name: p.name, shape: p.shape, data: weights.get(p.name)! }));
    const wrong = tensors.map((t) => (t.name === 'fc.weight' ? { ...t, shape: [49] } : t));
    expect(rejections(feed(r, chunks({ payload: encodeTensors(wrong, 'int8-channel') })))).toEqual([
      'tensor fc.weight has shape [49], expected [7,7]',
    ]);
    const inf = tensors.map((t) =>
      t.name === 'conv1.bias' ? { ...t, data: t.data.map(() => Infinity) } : t,
    );
    expect(
      rejections(feed(r, chunks({ counter: 2, payload: encodeTensors(inf, 'f32'), encoding: 'f32' }))),
    ).toEqual(['tensor conv1.bias has a non-finite value Infinity at index 0']);
    // Neither touched the replay state: counter 1 is still fresh.
    expect(accepted(feed(r, chunks({ counter: 1 })))).toHaveLength(1);
  });

  it('refuses a payload whose table disagrees with the signed encoding', () => {
    const r = receiver();
    expect(rejections(feed(r, chunks({ encoding: 'f16', payload: encodeWeights(weights, 'int8') })))).toEqual(
      ['payload is int8, the signed envelope says f16'],
    );
  });

  it('refuses a norm far outside the recent range, and the own model sets the range', () => {
    const r = receiver();
    const own = Math.sqrt([...weights.values()].reduce((s, d) => s + d.reduce((a, v) => a + v * v, 0), 0));
    r.noteOwnNorm(own);
    const reasons = rejections(
      feed(r, chunks({ payload: encodeWeights(scaled(weights, 1000), 'f32'), encoding: 'f32' })),
    );
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(
      new RegExp(
        `^weight norm 3470\\d\\.\\d{3} is far outside the recent range \\[${own.toFixed(3)}, ${own.toFixed(3)}\\] \\(factor 4\\)$`,
      ),
    );
    expect(
      rejections(
        feed(
          r,
          chunks({ counter: 2, payload: encodeWeights(scaled(weights, 0.01), 'f32'), encoding: 'f32' }),
        ),
      ),
    ).toHaveLength(1);
    expect(
      accepted(
        feed(r, chunks({ counter: 3, payload: encodeWeights(scaled(weights, 1.5), 'f32'), encoding: 'f32' })),
      ),
    ).toHaveLength(1);
  });

  it('bounds reassembly: declared size, chunk count, open payloads and time without progress', () => {
    const r = new UpdateReceiver({
      fleet: 'f',
      self: 'b',
      trusted,
      limits: { maxPayloadBytes: 400_000, maxChunks: 10, maxPending: 2, timeoutMs: 1000 },
    });
    expect(
      rejections(feed(r, chunks({ encoding: 'f32', payload: encodeWeights(weights, 'f32') }).slice(0, 1))),
    ).toEqual(
      ['payload of 1380188 bytes exceeds the 400000-byte limit'].map((s) =>
        s.replace('1380188', String(encodeWeights(weights, 'f32').length)),
      ),
    );
    expect(rejections(feed(r, chunks({ counter: 2, chunkBytes: 30_000 }).slice(0, 1)))).toEqual([
      'payload in 13 chunks exceeds the 10-chunk limit',
    ]);
    feed(r, chunks({ counter: 3 }).slice(0, 1), 'a', 0);
    feed(r, chunks({ counter: 4 }).slice(0, 1), 'a', 10);
    expect(r.pending).toBe(2);
    expect(rejections(feed(r, chunks({ counter: 5 }).slice(0, 1), 'a', 20))).toEqual([
      'incomplete (1/8 chunks) when 2 newer payloads needed room',
    ]);
    expect(rejections(r.expire(1009))).toEqual([]);
    expect(rejections(r.expire(1010))).toEqual(['incomplete (1/8 chunks) after 1000 ms without a new chunk']);
    expect(r.pending).toBe(1);
    // An incomplete payload is not a verdict: all its chunks arriving later still deliver it.
    expect(accepted(feed(r, chunks({ counter: 4 }), 'a', 1011))).toHaveLength(1);
  });

  it('a chunk injected with a different envelope does not cancel the genuine update', () => {
    const r = receiver();
    const msgs = chunks();
    const h = headerOf(msgs[1]!);
    const injected = encodeChunk(
      { ...h, round: 99, chunkSha256: sha256Hex(new Uint8Array(3)) },
      new Uint8Array(3),
    );
    const events = feed(r, [msgs[0]!, injected, ...msgs.slice(1)]);
    expect(rejections(events)).toEqual(["chunk 1 disagrees with the update's other chunks"]);
    expect(accepted(events)).toHaveLength(1);
  });

  it('a reassembler refuses bytes that do not add up to the signed hash', () => {
    const ra = new Reassembler({ maxPayloadBytes: 100, maxChunks: 4, maxPending: 1, timeoutMs: 10 });
    const [m0, m1] = chunks({ payload: Uint8Array.from({ length: 20 }, (_, i) => i), chunkBytes: 10 });
    const h0 = headerOf(m0!);
    expect(ra.open(h0, 0)).toEqual({ dropped: [] });
    expect(ra.add(h0, new Uint8Array(10), 18, 0)).toEqual({ kind: 'progress' });
    expect(ra.add(headerOf(m1!), new Uint8Array(10), 18, 0)).toEqual({
      kind: 'refused',
      reason: 'reassembled payload: sha256 mismatch',
    });
  });
});

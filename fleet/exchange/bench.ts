// `fadnet bench exchange`: one FADNet update, per encoding, through the whole exchange over a
// real broker on loopback: encoded, signed, chunked, published (QoS 1, every chunk
// acknowledged), received by a second silo, verified, reassembled, decoded and checked. `ms` is
// the time from publishModel() to the peer holding the verified model; `bytes` is what the
// update took on the wire (every chunk message, headers and signature included).

import { parseCommandArgs, numberArg, round3, summarise } from '../../common/index.ts';
import { initialWeights } from '../../models/src/weights/weight-set.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.ts';
import { ENCODINGS } from './codec.ts';
import { generateSiloKeys } from './keys.ts';
import { connect, type MqttExchange } from './mqtt-exchange.ts';
import type { Encoding } from './types.ts';

const USAGE = `usage: fadnet bench exchange [--broker URL] [--runs N] [--json]

One FADNet update (342,684 values, batch-norm statistics included) per encoding, from one silo
to another over the embedded broker (or --broker, e.g. mosquitto on loopback): p50 and p99 ms
from publish to the verified, decoded model at the peer, and bytes on the wire.`;

export interface ExchangeBenchRow {
  readonly encoding: Encoding;
  /** p50 over the runs, publish to verified model held by the peer. */
  readonly ms: number;
  readonly p99_ms: number;
  readonly bytes: number;
}

export async function benchExchange(url: string, runs: number): Promise<ExchangeBenchRow[]> {
  const ka = generateSiloKeys();
  const kb = generateSiloKeys();
  const trusted = new Map([
    ['a', ka.publicKey],
    ['b', kb.publicKey],
  ]);
  const weights = initialWeights(1);
  const rows: ExchangeBenchRow[] = [];
  for (const encoding of ENCODINGS) {
    // A fleet of its own per encoding and process, so no retained model of another run interferes.
    const fleet = `bench-${process.pid}-${encoding}`;
    const log = (line: string): void => console.error(line);
    const open: MqttExchange[] = [];
    try {
      const a = await connect({ url, fleet, silo: 'a', keys: ka, trusted, encoding, log });
      open.push(a);
      const b = await connect({ url, fleet, silo: 'b', keys: kb, trusted, encoding, peers: ['a'], log });
      open.push(b);
      const ms: number[] = [];
      let bytes = 0;
      for (let round = 0; round <= runs; round++) {
        const t0 = performance.now();
        const [, got] = await Promise.all([a.publishModel(round, weights), b.modelOf('a', round, 60_000)]);
        if (got === undefined)
          throw new Error(`bench exchange: the ${encoding} model of round ${round} never arrived`);
        if (round > 0) ms.push(performance.now() - t0); // round 0 warms up
        bytes = got.wireBytes;
      }
      const s = summarise(ms);
      rows.push({ encoding, ms: round3(s.p50), p99_ms: round3(s.p99), bytes });
    } finally {
      for (const x of open) await x.close();
    }
  }
  return rows;
}

export async function benchExchangeCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    broker: { type: 'string' },
    runs: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  });
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const runs = numberArg('--runs', parsed.values.runs, { integer: true, min: 1, max: 1000 });
  let embedded: EmbeddedBroker | undefined;
  const url =
    parsed.values.broker ?? (embedded = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 })).url;
  try {
    const rows = await benchExchange(url, runs);
    const broker = embedded === undefined ? url : 'embedded';
    if (parsed.values.json) {
      console.log(JSON.stringify({ broker, runs, exchange: rows }));
      return 0;
    }
    console.log(
      `bench exchange: one FADNet update a -> b over the ${broker} broker, ${runs} runs per encoding`,
    );
    console.log(
      `  ${'encoding'.padEnd(14)}${'bytes'.padStart(11)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}`,
    );
    for (const r of rows) {
      console.log(
        `  ${r.encoding.padEnd(14)}${r.bytes.toLocaleString('en-US').padStart(11)}${r.ms.toFixed(1).padStart(10)}${r.p99_ms.toFixed(1).padStart(10)}`,
      );
    }
    return 0;
  } finally {
    await embedded?.close();
  }
}

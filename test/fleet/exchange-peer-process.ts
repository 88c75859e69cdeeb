// A silo in its own process for the Last Will test: connects as silo "a", says "ready", and
// waits to be killed (never closing, as a crashed robot would not).
import { connect, generateSiloKeys } from '../../fleet/exchange/index.ts';

const [url, fleet, protocol] = process.argv.slice(2);
if (url === undefined || fleet === undefined)
  throw new Error('usage: exchange-peer-process.ts URL FLEET [4|5]');
const keys = generateSiloKeys();
await connect({
  url,
  fleet,
  silo: 'a',
  keys,
  trusted: new Map([['a', keys.publicKey]]),
  encoding: 'f32',
  protocolVersion: protocol === '5' ? 5 : 4,
});
process.stdout.write('ready\n');
setInterval(() => {}, 1 << 30);

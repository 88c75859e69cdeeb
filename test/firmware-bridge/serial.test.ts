// The bridge over a real pty pair (socat) with a simulated MCU on the far end: unplug and
// replug the line and watch the bridge stop, reconnect by itself and re-handshake.
import { rmSync } from 'node:fs';

import { afterAll, describe, expect, it } from 'vitest';

import { DEFAULT_CONFIG } from '../../firmware-bridge/core/config.ts';
import type { BridgeOutput } from '../../firmware-bridge/core/bridge.ts';
import { BridgeLink } from '../../firmware-bridge/link.ts';
import { PtyPair } from '../../firmware-bridge/pty-pair.ts';
import { SerialTransport } from '../../firmware-bridge/serial.ts';
import { SimulatedMcu } from '../../firmware-bridge/sim-mcu.ts';
import { systemClock } from '../../nodes/runtime/clock.ts';
import { until } from '../helpers/until.ts';
import { missingPackages, NEEDS_SOCAT, needsNote, tempDir } from './toolchain.ts';

const missing = missingPackages(NEEDS_SOCAT);

describe.skipIf(missing.length > 0)(`bridge over a pty pair${needsNote(missing)}`, () => {
  const dir = tempDir('bridge-pty-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stops on unplug, says so, reconnects by itself and resumes after a fresh handshake', async () => {
    const pair = new PtyPair(dir);
    await pair.plug();
    let mcuPort = new SerialTransport({ path: pair.mcuPath, baudRate: 115200, parity: 'none' });
    const mcu = new SimulatedMcu((b) => mcuPort.write(b));
    await mcuPort.open({ data: (c) => mcu.receive(c), closed: () => undefined });
    const outputs: Exclude<BridgeOutput, { kind: 'write' }>[] = [];
    const link = new BridgeLink({
      config: DEFAULT_CONFIG,
      transport: new SerialTransport({ path: pair.bridgePath, baudRate: 115200, parity: 'none' }),
      clock: systemClock,
      reconnectIntervalMs: 50,
      onOutput: (o) => outputs.push(o),
    });
    try {
      link.start();
      await until('running', () => link.state === 'running');
      link.command(0.2, 0);
      await until('the command at the MCU', () =>
        mcu.received.some((f) => f.message.type === 'wheel-cmd' && f.message.leftMradS === 4000),
      );

      await pair.unplug();
      await until('disconnected', () => link.state === 'disconnected');
      // The read side (hang-up) or a write (EIO) may notice the unplug first.
      const lost = outputs.find((o) => o.kind === 'state' && o.state === 'disconnected');
      expect(lost).toBeDefined();
      expect(lost?.kind === 'state' && lost.reason).toMatch(
        /^serial port .*bridge-tty: (disconnected|write failed): .*; stopped commanding, reconnecting$/,
      );
      await mcuPort.close();

      // Replug: a new pty behind the same path; the MCU has reset and has no session.
      mcu.reset();
      const seen = mcu.received.length;
      await pair.plug();
      mcuPort = new SerialTransport({ path: pair.mcuPath, baudRate: 115200, parity: 'none' });
      await mcuPort.open({ data: (c) => mcu.receive(c), closed: () => undefined });
      link.command(0.1, 0);
      await until('running again', () => link.state === 'running', 5000);
      await until('a command after the handshake', () =>
        mcu.received.slice(seen).some((f) => f.message.type === 'wheel-cmd'),
      );
      const after = mcu.received.slice(seen).map((f) => f.message.type);
      // Nothing but HELLO reaches the MCU before it has answered one.
      expect(after.slice(0, after.indexOf('wheel-cmd')).every((t) => t === 'hello')).toBe(true);
      expect(link.stats()).toMatchObject({ handshakes: 2, linkLosses: 1 });
    } finally {
      await link.stop('test over');
      await mcuPort.close();
      await pair.unplug();
    }
  });
});

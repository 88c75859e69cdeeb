import { describe, expect, it } from 'vitest';

import type { BridgeOutput } from '../../firmware-bridge/core/bridge.ts';
import { BridgeCore } from '../../firmware-bridge/core/bridge.ts';
import { DEFAULT_CONFIG, parseBridgeConfig } from '../../firmware-bridge/core/config.ts';
import { OdometryIntegrator, wheelCommand } from '../../firmware-bridge/core/kinematics.ts';
import type { Message } from '../../firmware-bridge/protocol/index.ts';
import { encodeFrame } from '../../firmware-bridge/protocol/index.ts';

function harness() {
  const out: BridgeOutput[] = [];
  const core = new BridgeCore(DEFAULT_CONFIG, (o) => out.push(o));
  const writes = () => out.flatMap((o) => (o.kind === 'write' ? [o.message] : []));
  let mcuSeq = 0;
  const reply = (now: number, m: Message) => core.receive(now, encodeFrame(m, mcuSeq++ & 0xff));
  return { core, out, writes, reply };
}

function handshake(h: ReturnType<typeof harness>, now: number): void {
  h.core.connected(now);
  const hello = h.writes().at(-1);
  if (hello?.type !== 'hello') throw new Error('expected a HELLO');
  h.reply(now + 1, {
    type: 'hello-ack',
    nonce: hello.nonce,
    firmwareMajor: 1,
    firmwareMinor: 0,
    ticksPerRev: 1200,
  });
}

describe('kinematics', () => {
  it('maps (v, w) to wheel mrad/s with limits and inversion', () => {
    expect(wheelCommand(0.2, 0, DEFAULT_CONFIG)).toEqual({ leftMradS: 4000, rightMradS: 4000 });
    expect(wheelCommand(0, 1, DEFAULT_CONFIG)).toEqual({ leftMradS: -3000, rightMradS: 3000 });
    // 2 m/s is clamped to max_linear 1 m/s = 20 rad/s, exactly the wheel limit.
    expect(wheelCommand(2, 0, DEFAULT_CONFIG)).toEqual({ leftMradS: 20000, rightMradS: 20000 });
    // Wheel limit scales both wheels, keeping the ratio 1:3.
    expect(wheelCommand(1, 3.333333, DEFAULT_CONFIG)).toEqual({ leftMradS: 6667, rightMradS: 20000 });
    expect(wheelCommand(0.2, 0, { ...DEFAULT_CONFIG, invertLeft: true })).toEqual({
      leftMradS: -4000,
      rightMradS: 4000,
    });
  });

  it('integrates encoder ticks across a counter wrap', () => {
    const odo = new OdometryIntegrator(DEFAULT_CONFIG, 1200);
    expect(odo.update(0, 0x7fffff00, 0x7fffff00)).toBeUndefined();
    // 1200 ticks = one revolution = 2*pi*0.05 m on both wheels, in 1 s.
    const e = odo.update(1000, (0x7fffff00 + 1200) | 0, (0x7fffff00 + 1200) | 0);
    expect(e?.x).toBeCloseTo(2 * Math.PI * 0.05, 12);
    expect(e?.vx).toBeCloseTo(2 * Math.PI * 0.05, 12);
    expect(e?.y).toBe(0);
    expect(e?.yaw).toBe(0);
  });
});

describe('bridge core', () => {
  it('validates its configuration with every problem named', () => {
    expect(() => parseBridgeConfig({ ...DEFAULT_CONFIG, commandPeriodMs: 120, wheelRadius: 0 })).toThrow(
      'invalid bridge parameters: wheelRadius: Too small: expected number to be >=0.005; commandPeriodMs: commandPeriodMs must be under 95 so one lost command does not trip the firmware failsafe',
    );
  });

  it('sends nothing but HELLO before the handshake, then the fresh command', () => {
    const h = harness();
    h.core.command(0, 0.2, 0);
    h.core.connected(10);
    h.core.tick(200);
    expect(h.writes().map((m) => m.type)).toEqual(['hello']);
    h.core.tick(260);
    expect(h.writes().map((m) => m.type)).toEqual(['hello', 'hello']);
    const nonce = (h.writes()[1] as Extract<Message, { type: 'hello' }>).nonce;
    h.reply(270, {
      type: 'hello-ack',
      nonce: nonce ^ 1,
      firmwareMajor: 1,
      firmwareMinor: 0,
      ticksPerRev: 1200,
    });
    expect(h.core.state).toBe('handshaking');
    h.reply(280, { type: 'hello-ack', nonce, firmwareMajor: 1, firmwareMinor: 0, ticksPerRev: 1200 });
    expect(h.core.state).toBe('running');
    expect(h.writes().at(-1)).toEqual({ type: 'wheel-cmd', leftMradS: 4000, rightMradS: 4000 });
  });

  it('sends a new command at once, refreshes every 20 ms and heartbeats every 100 ms', () => {
    const h = harness();
    handshake(h, 0);
    const before = h.writes().length;
    h.core.command(5, 0.1, 0);
    expect(h.writes().at(-1)).toEqual({ type: 'wheel-cmd', leftMradS: 2000, rightMradS: 2000 });
    expect(h.core.nextDeadline()).toBe(25);
    for (let t = 6; t <= 101; t++) {
      h.core.tick(t);
      if (t % 10 === 0) h.reply(t, { type: 'battery', millivolts: 12000 });
    }
    expect(
      h
        .writes()
        .slice(before)
        .map((m) => m.type),
    ).toEqual(['wheel-cmd', 'wheel-cmd', 'wheel-cmd', 'wheel-cmd', 'wheel-cmd', 'heartbeat']);
  });

  it('commands zero when /cmd_vel goes stale or is not finite, and says why', () => {
    const h = harness();
    handshake(h, 0);
    h.core.command(10, 0.2, 0);
    h.core.command(20, Number.NaN, 0);
    expect(h.writes().at(-1)).toEqual({ type: 'wheel-cmd', leftMradS: 0, rightMradS: 0 });
    expect(h.out).toContainEqual({
      kind: 'warning',
      text: 'cmd_vel refused (linear.x NaN, angular.z 0): stopping',
    });
    h.core.command(30, 0.2, 0);
    for (let t = 31; t <= 531; t += 10) {
      h.reply(t, { type: 'battery', millivolts: 12000 });
      h.core.tick(t + 1);
    }
    expect(h.out).toContainEqual({ kind: 'warning', text: 'no cmd_vel for 500 ms: commanding zero' });
    expect(h.writes().at(-1)).toMatchObject({ leftMradS: 0, rightMradS: 0 });
  });

  it('stops commanding when the MCU goes quiet and resumes only after a fresh handshake', () => {
    const h = harness();
    handshake(h, 0);
    h.core.command(10, 0.2, 0);
    h.core.tick(302);
    expect(h.core.state).toBe('handshaking');
    expect(h.out.at(-2)).toEqual({
      kind: 'state',
      state: 'handshaking',
      reason: 'no valid frame from the MCU for 301 ms; stopped commanding, handshaking again',
    });
    expect(h.writes().at(-1)?.type).toBe('hello');
    const n = h.writes().length;
    h.core.command(310, 0.2, 0);
    h.core.tick(340);
    expect(h.writes().length).toBe(n);
    h.core.disconnected(350, 'serial port /dev/x: disconnected: EIO');
    expect(h.out.at(-1)).toEqual({
      kind: 'state',
      state: 'disconnected',
      reason: 'serial port /dev/x: disconnected: EIO; stopped commanding, reconnecting',
    });
    handshake(h, 400);
    expect(h.core.state).toBe('running');
    expect(h.writes().at(-1)).toEqual({ type: 'wheel-cmd', leftMradS: 4000, rightMradS: 4000 });
    expect(h.core.stats()).toMatchObject({ handshakes: 2, linkLosses: 1 });
  });

  it('counts bad frames and lost sequence numbers, measures round-trip time, e-stops on stop()', () => {
    const h = harness();
    handshake(h, 0);
    const bad = Uint8Array.from(encodeFrame({ type: 'battery', millivolts: 12000 }, 1));
    bad[3] = (bad[3] as number) ^ 0xff;
    h.core.receive(2, bad);
    h.core.tick(100);
    const hb = h.out.filter((o) => o.kind === 'write').length - 1;
    h.core.receive(103, encodeFrame({ type: 'ack', seq: hb, ackedType: 3, result: 0 }, 5));
    const s = h.core.stats();
    expect([s.crcErrors, s.lostFrames, s.rttLastMs]).toEqual([1, 4, 3]);
    h.core.stop(110, 'test over');
    expect(h.writes().at(-1)).toEqual({ type: 'estop', reason: 1 });
    expect(h.core.state).toBe('stopped');
    h.core.command(120, 0.2, 0);
    h.core.tick(200);
    expect(h.writes().at(-1)?.type).toBe('estop');
  });
});

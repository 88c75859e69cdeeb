// The real firmware image on an emulated ATmega328P (simavr), driven by the real bridge node
// over the harness's pty: /cmd_vel reaches the PWM outputs, odometry and battery come back,
// and when the bridge goes silent the firmware stops the motors within 200 ms emulated.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, describe, expect, it } from 'vitest';

import { BridgeNode } from '../../firmware-bridge/node.ts';
import { SerialTransport } from '../../firmware-bridge/serial.ts';
import type { ByteTransport } from '../../firmware-bridge/transport.ts';
import { EmbeddedBus, QOS_COMMANDS, QOS_SENSOR_DATA, QOS_STATUS } from '../../nodes/runtime/index.ts';
import type { BatteryState, DiagnosticArray, Odometry } from '../../nodes/runtime/index.ts';
import {
  buildFirmware,
  buildHarness,
  missingPackages,
  NEEDS_EMULATOR,
  needsNote,
  tempDir,
} from './toolchain.ts';
import { until } from '../helpers/until.ts';

const missing = missingPackages(NEEDS_EMULATOR);

interface Pwm {
  tUs: number;
  left: number;
  right: number;
  lastRxUs: number;
}

/** Drops every write while muted: the bridge process as seen from a line that went quiet. */
function mutable(inner: ByteTransport): ByteTransport & { mute(): void } {
  let muted = false;
  return {
    description: inner.description,
    open: (h) => inner.open(h),
    close: () => inner.close(),
    write: (bytes, written) => (muted ? written?.(undefined) : inner.write(bytes, written)),
    mute: () => {
      muted = true;
    },
  };
}

describe.skipIf(missing.length > 0)(
  `reference firmware in simavr through the bridge node${needsNote(missing)}`,
  () => {
    const dir = tempDir('bridge-simavr-');
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('drives the PWM outputs, reports odometry and battery, fails safe when the bridge goes silent', async () => {
      const { elf, sizeReport } = buildFirmware();
      console.log(sizeReport);
      const harness = spawn(buildHarness(dir), [elf, '12000'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const pwm: Pwm[] = [];
      let ptyPath: string | undefined;
      createInterface({ input: harness.stdout }).on('line', (line) => {
        if (line.startsWith('pty ')) ptyPath = line.slice(4);
        const m = /^pwm t_us=(\d+) left=(-?\d+) right=(-?\d+) last_rx_us=(\d+)$/.exec(line);
        if (m)
          pwm.push({ tUs: Number(m[1]), left: Number(m[2]), right: Number(m[3]), lastRxUs: Number(m[4]) });
      });
      const bus = new EmbeddedBus();
      let bridge: BridgeNode | undefined;
      let transport: ReturnType<typeof mutable> | undefined;
      try {
        await until('the harness pty', () => ptyPath !== undefined);
        const odom: Odometry[] = [];
        const battery: BatteryState[] = [];
        const diagnostics: DiagnosticArray[] = [];
        const test = bus.createNode('test');
        test.createSubscription('nav_msgs/msg/Odometry', '/odom', QOS_SENSOR_DATA, (m) => odom.push(m));
        test.createSubscription('sensor_msgs/msg/BatteryState', '/battery_state', QOS_SENSOR_DATA, (m) =>
          battery.push(m),
        );
        test.createSubscription('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics', QOS_STATUS, (m) =>
          diagnostics.push(m),
        );
        const cmdVel = test.createPublisher('geometry_msgs/msg/Twist', '/cmd_vel', QOS_COMMANDS);
        bridge = new BridgeNode({
          node: bus.createNode('motor_bridge'),
          parameters: [{ name: 'test', values: { port: ptyPath } }],
          transport: (p) =>
            (transport = mutable(new SerialTransport({ path: p.port, baudRate: p.baud, parity: 'none' }))),
          log: () => undefined,
        });
        const node = bridge;
        await until('the handshake', () => node.link.state === 'running');

        // 0.2 m/s on 0.05 m wheels = 4 rad/s = 20 % of the firmware's 20 rad/s full scale.
        const drive = setInterval(
          () => cmdVel.publish({ linear: { x: 0.2, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }),
          50,
        );
        try {
          await until('PWM at 20 %', () => pwm.some((p) => p.left === 200 && p.right === 200));
          await sleep(1200);
        } finally {
          clearInterval(drive);
        }
        const last = odom.at(-1);
        expect(last?.twist.twist.linear.x).toBeGreaterThan(0.18);
        expect(last?.twist.twist.linear.x).toBeLessThan(0.22);
        expect(last?.pose.pose.position.x).toBeGreaterThan(0.1);
        expect(Math.abs(last?.pose.pose.position.y ?? 1)).toBeLessThan(0.01);
        // 12 V through the 1/3 divider is 4000 mV at ADC5; simavr converts with 1023 steps per
        // 5 V (the datasheet says 1024), giving 818, and the firmware 818 * 15000 / 1024 = 11982 mV.
        expect(battery.at(-1)?.voltage).toBe(11.982);
        const status = diagnostics.at(-1)?.status[0];
        expect(status?.level).toBe(0);
        expect(status?.values.find((v) => v.key === 'crc_errors')?.value).toBe('0');

        const before = pwm.length;
        transport?.mute();
        await until('the failsafe stop', () => pwm.slice(before).some((p) => p.left === 0 && p.right === 0));
        const stop = pwm.slice(before).find((p) => p.left === 0 && p.right === 0) as Pwm;
        const stopMs = (stop.tUs - stop.lastRxUs) / 1000;
        console.log(
          `firmware failsafe: motors stopped ${stopMs.toFixed(1)} ms (emulated) after the last byte`,
        );
        expect(stopMs).toBeGreaterThanOrEqual(190);
        expect(stopMs).toBeLessThanOrEqual(200);
      } finally {
        await bridge?.shutdown('test over');
        await bus.shutdown();
        harness.kill('SIGTERM');
      }
    });
  },
);

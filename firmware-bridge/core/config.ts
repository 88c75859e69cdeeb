// The bridge core's configuration, validated with zod before the core sees it. Cross-field
// rules live here too: the bridge must refresh faster than the firmware's failsafe (190 ms).
import { z } from 'zod';

import { BridgeParameterError } from '../errors.ts';

/** The firmware stops its motors after 190 ms without a valid command or heartbeat. */
export const FIRMWARE_FAILSAFE_MS = 190;

export const BridgeConfigSchema = z
  .object({
    /** Distance between the wheel contact points, m. */
    wheelBase: z.number().min(0.05).max(2),
    wheelRadius: z.number().min(0.005).max(0.5),
    /** Wheel speed limit, rad/s; both wheels are scaled together to keep the curvature. */
    maxWheelSpeed: z.number().gt(0).max(32.767),
    maxLinear: z.number().gt(0).max(10),
    maxAngular: z.number().gt(0).max(20),
    invertLeft: z.boolean(),
    invertRight: z.boolean(),
    commandPeriodMs: z.number().min(5).max(150),
    heartbeatPeriodMs: z.number().min(10).max(150),
    /** Commands from /cmd_vel closer together than this are coalesced. */
    minCommandIntervalMs: z.number().min(0).max(50),
    /** Without a fresh /cmd_vel for this long the bridge commands zero. */
    cmdVelTimeoutMs: z.number().min(50).max(5000),
    /** Without a valid frame from the MCU for this long the link counts as lost. */
    linkTimeoutMs: z.number().min(100).max(5000),
    helloRetryMs: z.number().min(50).max(5000),
  })
  .strict()
  .refine((c) => c.commandPeriodMs < FIRMWARE_FAILSAFE_MS / 2, {
    message: `commandPeriodMs must be under ${FIRMWARE_FAILSAFE_MS / 2} so one lost command does not trip the firmware failsafe`,
    path: ['commandPeriodMs'],
  });

export type BridgeConfig = z.infer<typeof BridgeConfigSchema>;

export const DEFAULT_CONFIG: BridgeConfig = {
  wheelBase: 0.3,
  wheelRadius: 0.05,
  maxWheelSpeed: 20,
  maxLinear: 1,
  maxAngular: 4,
  invertLeft: false,
  invertRight: false,
  commandPeriodMs: 20,
  heartbeatPeriodMs: 100,
  minCommandIntervalMs: 2,
  cmdVelTimeoutMs: 500,
  linkTimeoutMs: 300,
  helloRetryMs: 250,
};

/** Validates a configuration; throws BridgeParameterError listing every problem. */
export function parseBridgeConfig(input: unknown): BridgeConfig {
  const result = BridgeConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
  throw new BridgeParameterError(issues, { cause: result.error });
}

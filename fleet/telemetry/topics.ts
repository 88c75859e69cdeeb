// Where telemetry lives under fleet/<fleet>/ (README.md here), beside the exchange's topics and
// with its name rule, so a robot id can never carry a wildcard or an extra level.

import { NAME_PATTERN } from '../exchange/topics.ts';

/** The robot's newest telemetry record (retained: a dashboard that starts late sees every robot at once). */
export const telemetryTopic = (fleet: string, robot: string): string => `fleet/${fleet}/telemetry/${robot}`;
export const telemetryFilter = (fleet: string): string => `fleet/${fleet}/telemetry/+`;

/** The robot's retained online/offline status; the broker publishes its Last Will there. */
export const robotStatusTopic = (fleet: string, robot: string): string => `fleet/${fleet}/status/${robot}`;
export const robotStatusFilter = (fleet: string): string => `fleet/${fleet}/status/+`;

/** Retained JSON the OTA updater publishes per robot (its own schema; readers take only what they know). */
export const otaStateTopic = (fleet: string, robot: string): string => `fleet/${fleet}/ota/state/${robot}`;
export const otaStateFilter = (fleet: string): string => `fleet/${fleet}/ota/state/+`;

/** Each silo's newest signed live-plan proposal, retained (fleet/live-plan). */
export const planProposalFilter = (fleet: string): string => `fleet/${fleet}/plan/proposals/+`;

export type TelemetryTopic =
  | { readonly kind: 'telemetry' | 'status' | 'ota' | 'proposal'; readonly robot: string }
  | { readonly kind: 'other' };

/** What a topic of this fleet carries for the fleet's readers; 'other' for anything else. */
export function parseTelemetryTopic(fleet: string, topic: string): TelemetryTopic {
  const parts = topic.split('/');
  if (parts[0] !== 'fleet' || parts[1] !== fleet) return { kind: 'other' };
  const last = parts[parts.length - 1]!;
  if (!NAME_PATTERN.test(last)) return { kind: 'other' };
  if (parts.length === 4 && parts[2] === 'telemetry') return { kind: 'telemetry', robot: last };
  if (parts.length === 4 && parts[2] === 'status') return { kind: 'status', robot: last };
  if (parts.length === 5 && parts[2] === 'ota' && parts[3] === 'state') return { kind: 'ota', robot: last };
  if (parts.length === 5 && parts[2] === 'plan' && parts[3] === 'proposals')
    return { kind: 'proposal', robot: last };
  return { kind: 'other' };
}

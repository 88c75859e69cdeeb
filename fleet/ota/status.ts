// A robot's OTA state: published retained on fleet/<fleet>/ota/status/<robot> for telemetry and
// kept in the store as state.json (for `fadnet ota status` and to resume a probation after a
// restart). Validated on both sides: the agent parses what it writes and telemetry what it reads.
import { z } from 'zod';
import { SemanticVersion } from '../../models/src/manifest.ts';
import { NAME_PATTERN } from '../exchange/topics.ts';
import { REJECT_KINDS } from './errors.ts';
import { ROLLBACK_KINDS } from './probation.ts';

export const OTA_STATES = [
  'idle',
  'downloading',
  'staging',
  'validating',
  'activating',
  'probation',
  'active',
  'rejected',
  'rolled_back',
] as const;
export type OtaState = (typeof OTA_STATES)[number];

export const OtaStatusSchema = z.strictObject({
  v: z.literal(1),
  fleet: z.string().regex(NAME_PATTERN),
  robot: z.string().regex(NAME_PATTERN),
  state: z.enum(OTA_STATES),
  /** The version driving now and the one kept for rollback. */
  active: SemanticVersion.nullable(),
  previous: SemanticVersion.nullable(),
  /** The release this state is about. */
  release: z.strictObject({ version: z.string(), sha256: z.string() }).nullable(),
  /** Download progress: chunks held of the total, and how many were already on disk at (re)start. */
  progress: z
    .strictObject({
      chunks: z.number().int().nonnegative(),
      of: z.number().int().nonnegative(),
      resumed: z.number().int().nonnegative(),
    })
    .nullable(),
  /** Why the release was refused or rolled back (the newest reason while downloading too). */
  reason: z
    .strictObject({ kind: z.enum([...REJECT_KINDS, ...ROLLBACK_KINDS, 'manual']), message: z.string() })
    .nullable(),
  /** While in probation: when it began (wall ms) and what it judges against. */
  probation: z
    .strictObject({
      version: SemanticVersion,
      since: z.number().nonnegative(),
      seconds: z.number().nonnegative(),
      maxJitter: z.number().positive(),
      latencyBudgetMs: z.number().positive(),
    })
    .nullable(),
  at: z.number().int().nonnegative(),
});
export type OtaStatus = z.infer<typeof OtaStatusSchema>;
export type OtaReasonKind = NonNullable<OtaStatus['reason']>['kind'];

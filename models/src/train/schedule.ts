import { z } from 'zod';

/** Learning rate per step: linear warm-up, then cosine decay to a floor. */
export const LrScheduleSchema = z
  .object({
    base: z.number().positive().max(1),
    warmupSteps: z.number().int().nonnegative(),
    totalSteps: z.number().int().positive(),
    floor: z.number().nonnegative(),
  })
  .strict();

export type LrSchedule = z.infer<typeof LrScheduleSchema>;

export function learningRate(schedule: LrSchedule, step: number): number {
  if (step < schedule.warmupSteps) return (schedule.base * (step + 1)) / schedule.warmupSteps;
  const span = Math.max(1, schedule.totalSteps - schedule.warmupSteps);
  const t = Math.min(1, (step - schedule.warmupSteps) / span);
  return schedule.floor + (schedule.base - schedule.floor) * 0.5 * (1 + Math.cos(Math.PI * t));
}

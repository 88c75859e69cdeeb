import { describe, expect, it } from 'vitest';
import {
  initialShapingState,
  rampToZero,
  shapeCommand,
  slew,
  type ShapingParams,
} from '../../nodes/steering/shaping.ts';
import { judge, type WatchdogParams } from '../../nodes/steering/watchdog.ts';

const p: ShapingParams = {
  steeringGain: 2,
  steeringSign: 1,
  steeringOffset: 0,
  smoothing: 1,
  maxAngularRate: 1,
  cruiseSpeed: 0.5,
  turnSlowdown: 0.5,
  maxLinearAccel: 100,
  maxAngularAccel: 100,
};

describe('command shaping', () => {
  it('applies gain, sign, offset and the angular clamp', () => {
    expect(shapeCommand(initialShapingState(), 0.25, 1, p).command.angular.z).toBe(0.5);
    expect(shapeCommand(initialShapingState(), 0.25, 1, { ...p, steeringSign: -1 }).command.angular.z).toBe(
      -0.5,
    );
    expect(
      shapeCommand(initialShapingState(), 0.25, 1, { ...p, steeringOffset: 0.05 }).command.angular.z,
    ).toBeCloseTo(0.6, 12);
    expect(shapeCommand(initialShapingState(), 3, 1, p).command.angular.z).toBe(1);
  });

  it('slows down as |steering| grows', () => {
    expect(shapeCommand(initialShapingState(), 0, 1, p).command.linear.x).toBe(0.5);
    expect(shapeCommand(initialShapingState(), 0.25, 1, p).command.linear.x).toBe(0.375);
    expect(shapeCommand(initialShapingState(), -5, 1, p).command.linear.x).toBe(0.25);
  });

  it('smooths exponentially', () => {
    const q = { ...p, smoothing: 0.5 };
    const a = shapeCommand(initialShapingState(), 0.2, 0.1, q);
    expect(a.command.angular.z).toBeCloseTo(0.2, 12);
    expect(shapeCommand(a, 0.2, 0.1, q).command.angular.z).toBeCloseTo(0.3, 12);
  });

  it('limits acceleration per elapsed time', () => {
    const q = { ...p, maxLinearAccel: 1, maxAngularAccel: 2 };
    const a = shapeCommand(initialShapingState(), 0.5, 0.1, q);
    expect(a.command.linear.x).toBeCloseTo(0.1, 12);
    expect(a.command.angular.z).toBeCloseTo(0.2, 12);
    expect(slew(1, -1, 5, 0.1)).toBeCloseTo(0.5, 12);
  });

  it('ramps to zero within the ramp time from full scale', () => {
    const full = { linear: { x: 0.6, y: 0, z: 0 }, angular: { x: 0, y: 0, z: -1.2 } };
    let c = full;
    for (let i = 0; i < 2; i++) c = rampToZero(c, full, 0.3, 0.1);
    expect(c.linear.x).toBeCloseTo(0.2, 12);
    expect(c.angular.z).toBeCloseTo(-0.4, 12);
    c = rampToZero(c, full, 0.3, 0.1);
    expect(c.linear.x).toBeCloseTo(0, 12);
    expect(rampToZero(c, full, 0.3, 0.1)).toEqual({
      linear: { x: 0, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: 0 },
    });
  });
});

describe('deadline watchdog', () => {
  const w: WatchdogParams = { maxFrameAgeMs: 200, inferenceDeadlineMs: 100, futureToleranceMs: 50 };
  const base = {
    now: 10_000,
    clockStarted: true,
    clockJumpedBackMs: undefined,
    enabled: true,
    lastCommandFrameStamp: 9_950,
    inferenceStartedAt: undefined,
    lastInferenceFailed: false,
  };

  it('lets a fresh, enabled robot drive', () => {
    expect(judge(base, w)).toEqual({ drive: true });
  });

  it('stops for each reason, saying why', () => {
    expect(judge({ ...base, enabled: false }, w)).toEqual({
      drive: false,
      reason: 'disabled',
      detail: 'autonomous driving is disabled',
    });
    expect(judge({ ...base, lastCommandFrameStamp: undefined }, w)).toMatchObject({ reason: 'no_frames' });
    expect(judge({ ...base, lastCommandFrameStamp: 9_700 }, w)).toEqual({
      drive: false,
      reason: 'stale_frame',
      detail: 'newest frame is 300 ms old, limit 200 ms',
    });
    expect(judge({ ...base, lastCommandFrameStamp: 10_500 }, w)).toEqual({
      drive: false,
      reason: 'frame_from_future',
      detail: 'newest frame is stamped 500 ms in the future (clock jump?)',
    });
    expect(judge({ ...base, inferenceStartedAt: 9_850 }, w)).toEqual({
      drive: false,
      reason: 'inference_deadline',
      detail: 'inference running for 150 ms, deadline 100 ms',
    });
    expect(judge({ ...base, lastInferenceFailed: true }, w)).toMatchObject({ reason: 'inference_error' });
  });

  it('never drives on a clock that has not started or has jumped back, before any other check', () => {
    expect(judge({ ...base, now: 0, clockStarted: false, lastCommandFrameStamp: 0 }, w)).toEqual({
      drive: false,
      reason: 'clock_not_started',
      detail: 'the node clock has not started (use_sim_time: no /clock message yet)',
    });
    // Disabled too: the clock fault is what is reported, since every age depends on the clock.
    expect(judge({ ...base, enabled: false, clockJumpedBackMs: 6000 }, w)).toEqual({
      drive: false,
      reason: 'clock_jumped_back',
      detail: 'the clock jumped back 6000 ms; waiting for a frame stamped after the jump',
    });
  });

  it('treats the age limit as inclusive and tolerates small clock skew', () => {
    expect(judge({ ...base, lastCommandFrameStamp: 9_800 }, w)).toEqual({ drive: true });
    expect(judge({ ...base, lastCommandFrameStamp: 10_040 }, w)).toEqual({ drive: true });
  });
});

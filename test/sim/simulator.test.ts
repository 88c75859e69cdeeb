import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { purePursuit, twistFromSteering } from '../../sim/expert.ts';
import { DEFAULT_RANDOMISATION } from '../../sim/render/effects.ts';
import { Simulator } from '../../sim/simulator.ts';
import { pointAt, project } from '../../sim/track.ts';
import { listWorlds, loadWorld } from '../../sim/world/load.ts';

const DT = 1 / 30;

describe('expert driver', () => {
  it.each(listWorlds().map((w) => w.name))(
    'drives 2 laps of %s at 0.5 m/s within 6 cm of the centreline',
    (name) => {
      const sim = Simulator.create({ world: loadWorld(name), seed: 1 });
      let r = sim.reset();
      let maxCte = 0;
      let collisions = 0;
      let steps = 0;
      const limit = Math.ceil((2 * sim.centreline.length) / 0.5 / DT) + 60;
      while (r.laps < 2 && steps < limit) {
        const e = sim.expert();
        expect(e.twist.linear.x).toBe(0.5);
        r = sim.step(e.twist, DT);
        maxCte = Math.max(maxCte, Math.abs(r.cte));
        if (r.collided) collisions++;
        steps++;
      }
      expect(r.laps).toBe(2);
      expect(collisions).toBe(0);
      expect(maxCte).toBeLessThan(0.06);
    },
  );

  it('labels steering as angular.z / maxAngularRate, positive to the left', () => {
    const sim = Simulator.create({ world: loadWorld('office-loop') });
    const c = sim.centreline;
    const on = pointAt(c, 5);
    // Right of the centreline, facing along it: steer left, back towards it.
    const pose = { x: on.x, y: on.y - 0.2, yaw: on.yaw };
    const e = purePursuit(c, pose, project(c, pose.x, pose.y).s, {
      lookahead: 0.8,
      speed: 0.5,
      maxAngularRate: 2,
    });
    expect(e.steering).toBeGreaterThan(0);
    expect(e.steering).toBe(e.twist.angular.z / 2);
    expect(twistFromSteering(e.steering, 0.5, 2)).toEqual(e.twist);
    // Pure pursuit: the target 0.8 m along from x = 5 m is (5.8, 0); from (5, -0.2) that is
    // lateral 0.2 m at distance^2 0.68, so curvature 0.4 / 0.68 and omega = 0.5 * that.
    expect(e.twist.angular.z).toBeCloseTo((0.5 * 0.4) / 0.68, 9);
  });
});

describe('lap counting', () => {
  it('counts laps forwards and wraps progress at the start line', () => {
    const sim = Simulator.create({ world: loadWorld('gym-oval') });
    const length = sim.centreline.length;
    let r = sim.reset();
    expect([r.laps, r.lapProgress, r.distance]).toEqual([0, 0, 0]);
    // Teleport-free driving: follow the expert for 1.25 laps.
    while (r.distance < 1.25 * length) r = sim.step(sim.expert().twist, DT);
    expect(r.laps).toBe(1);
    expect(r.lapProgress).toBeGreaterThan(0.25);
    expect(r.lapProgress).toBeLessThan(0.27);
  });

  it('takes a lap back when reversing over the line where counting started', () => {
    const sim = Simulator.create({ world: loadWorld('office-loop') });
    const length = sim.centreline.length;
    // 4 m along is on the first straight: reverse 1 m straight back over the reset point.
    const p = pointAt(sim.centreline, 4);
    let r = sim.reset({ x: p.x, y: p.y, yaw: p.yaw });
    const back = { linear: { x: -0.5, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } };
    for (let i = 0; i < 60; i++) r = sim.step(back, DT);
    expect(r.distance).toBeCloseTo(-1, 6);
    expect(r.laps).toBe(-1);
    expect(r.lapProgress).toBeCloseTo(1 - 1 / length, 6);
    expect(r.collided).toBe(false);
  });
});

describe('determinism', () => {
  const run = (seed: number): { frames: string; poses: string } => {
    const sim = Simulator.create({
      world: loadWorld('park-path'),
      seed,
      randomisation: DEFAULT_RANDOMISATION,
    });
    const frames = createHash('sha256');
    const poses = createHash('sha256');
    for (let i = 0; i < 40; i++) {
      const e = sim.expert();
      // Steering noise from the simulator's own state keeps the trajectory non-trivial.
      const r = sim.step(e.twist, DT);
      poses.update(new Float64Array([r.pose.x, r.pose.y, r.pose.yaw, r.cte]));
      if (i % 4 === 0) frames.update(sim.render());
    }
    return { frames: frames.digest('hex'), poses: poses.digest('hex') };
  };

  it('gives bit-identical frames and trajectory for the same seed, other frames for another', () => {
    const a = run(7);
    const b = run(7);
    const c = run(8);
    expect(b).toEqual(a);
    expect(c.poses).toBe(a.poses);
    expect(c.frames).not.toBe(a.frames);
  });
});

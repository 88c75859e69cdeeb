import { describe, expect, it } from 'vitest';
import { Simulator } from '../../sim/simulator.ts';
import { pointAt } from '../../sim/track.ts';
import { parseWorld } from '../../sim/world/load.ts';
import type { WorldInput } from '../../sim/world/schema.ts';

// Plain colours and flat light (ambient 1, no sun), so every pixel's colour says what it shows.
const RED = [255, 0, 0];
const GREEN = [0, 255, 0];
const WHITE = [255, 255, 255];
const MAGENTA = [255, 0, 255];
function testWorld(wallHeight: number): WorldInput {
  return {
    name: 'plain-test',
    environment: 'indoor',
    track: {
      kind: 'polygon',
      points: [
        [0, 0],
        [12, 0],
        [12, 6],
        [0, 6],
      ],
      cornerRadius: 2,
      width: 0.8,
    },
    walls: { offset: 1, height: wallHeight, texture: { kind: 'plain', colour: '#ff0000' } },
    floor: { texture: { kind: 'plain', colour: '#00ff00' } },
    markings: { centre: { style: 'solid', colour: '#ffffff', width: 0.05 } },
    lighting: {
      ambient: 1,
      sun: { azimuthDeg: 0, elevationDeg: 90, intensity: 0 },
      sky: ['#ff00ff', '#ff00ff'],
    },
  };
}
const pixel = (f: Uint8Array, col: number, row: number): number[] => [
  ...f.subarray((row * 640 + col) * 3, (row * 640 + col) * 3 + 3),
];

describe('camera renderer', () => {
  const world = parseWorld(testWorld(1), 'plain-test');
  // 6 m along is on the first straight (y = 0, heading +x), 4 m of straight ahead.
  const on = pointAt(Simulator.create({ world }).centreline, 6);

  it('renders 640x480 rgb8 frames, 1920 bytes a row', () => {
    const sim = Simulator.create({ world });
    expect(sim.camera.width * 3).toBe(1920);
    expect(sim.render().length).toBe(921600);
    const own = new Uint8Array(921600);
    expect(sim.render(own)).toBe(own);
    expect(() => sim.render(new Uint8Array(100))).toThrow(
      'frame buffer holds 100 bytes, a frame needs 921600',
    );
  });

  it('puts the horizon where the pitch says: tilting down raises it', () => {
    const flat = parseWorld(testWorld(0.01), 'plain-test');
    const f = 320 / Math.tan((69 * Math.PI) / 360);
    const horizonRow = (pitchDeg: number): number => {
      const sim = Simulator.create({ world: flat, camera: { pitchDeg } });
      sim.reset({ x: on.x, y: on.y, yaw: 0 });
      const frame = sim.render();
      let row = 0;
      while (row < 480 && pixel(frame, 320, row).join() === MAGENTA.join()) row++;
      return row;
    };
    // First row whose ray points below horizontal: row + 0.5 - 240 > -f tan(pitch).
    const expected = (p: number): number => Math.floor(239.5 - f * Math.tan((p * Math.PI) / 180)) + 1;
    expect(horizonRow(0)).toBe(240);
    expect(horizonRow(10)).toBe(expected(10));
    expect(horizonRow(20)).toBe(expected(20));
    expect(horizonRow(-5)).toBe(expected(-5));
  });

  it('fills the centre with a wall the robot faces', () => {
    const sim = Simulator.create({ world });
    // Facing the left wall, 1 m away (0.9 m from the lens).
    sim.reset({ x: on.x, y: on.y, yaw: Math.PI / 2 });
    const frame = sim.render();
    // The wall's foot is 15.5 degrees below the lens, 5.5 below the axis: row 240 + f tan(5.5) = 285.
    for (let row = 0; row <= 280; row += 8)
      for (let col = 200; col <= 440; col += 8) expect(pixel(frame, col, row)).toEqual(RED);
    // The bottom rows see the floor in front of the wall.
    expect(pixel(frame, 320, 479)).toEqual(GREEN);
  });

  it('shows the centre line at the image centre when the robot sits on it facing along it', () => {
    const sim = Simulator.create({ world });
    sim.reset({ x: on.x, y: on.y, yaw: on.yaw });
    const frame = sim.render();
    for (let row = 300; row < 480; row += 10) {
      const white: number[] = [];
      for (let col = 0; col < 640; col++) if (pixel(frame, col, row).join() === WHITE.join()) white.push(col);
      expect(white.length).toBeGreaterThan(0);
      const mid = (white[0]! + white[white.length - 1]!) / 2;
      expect(Math.abs(mid - 319.5)).toBeLessThan(3);
      // Green floor on both sides of the line.
      expect(pixel(frame, white[0]! - 8, row)).toEqual(GREEN);
      expect(pixel(frame, white[white.length - 1]! + 8, row)).toEqual(GREEN);
    }
  });

  it('moves the line right of centre when the robot sits left of it', () => {
    const sim = Simulator.create({ world });
    sim.reset({ x: on.x, y: on.y + 0.2, yaw: on.yaw });
    const frame = sim.render();
    const white: number[] = [];
    for (let col = 0; col < 640; col++) if (pixel(frame, col, 470).join() === WHITE.join()) white.push(col);
    expect(white[0]!).toBeGreaterThan(400);
  });
});

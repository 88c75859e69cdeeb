import { describe, expect, it } from 'vitest';
import { mulberry32, Rng } from '../../common/index.ts';

// Values the generator produced before it moved here: the shipped model's initial weights, the
// training shuffles and every simulator run depend on these sequences staying bit-identical.
describe('mulberry32', () => {
  it('reproduces the published sequence for a seed', () => {
    const next = mulberry32(42);
    expect([next(), next(), next()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  });

  it('takes the seed as an unsigned 32-bit integer', () => {
    const a = mulberry32(0xdeadbeef);
    expect([a(), a()]).toEqual([0.9413696140982211, 0.26719574979506433]);
    const b = mulberry32(0xdeadbeef - 2 ** 32);
    expect([b(), b()]).toEqual([0.9413696140982211, 0.26719574979506433]);
  });
});

describe('Rng', () => {
  it('draws uniform and normal values from the same sequence as mulberry32', () => {
    const rng = new Rng(7);
    expect([rng.next(), rng.uniform(-2, 3), rng.normal()]).toEqual([
      0.011704753153026104, -1.6902087121270597, -0.8642530248729361,
    ]);
    const plain = mulberry32(7);
    const again = new Rng(7);
    for (let i = 0; i < 100; i++) expect(again.next()).toBe(plain());
  });
});

import { describe, expect, it } from 'vitest';
import { until } from './until.ts';

describe('until', () => {
  it('resolves once the condition turns true', async () => {
    let checks = 0;
    await until('the third check', () => ++checks === 3);
    expect(checks).toBe(3);
  });

  it('rejects naming what it waited for when the condition stays false', async () => {
    await expect(until('the answer', () => false, 20)).rejects.toThrow(
      new Error('timed out after 20 ms waiting for the answer'),
    );
  });
});

// Pairs each camera frame with the steering label nearest in time. Pure: times in, indices out.

/**
 * For each frame time, the index of the nearest label time within maxLagNs, or -1. Both lists
 * must be sorted ascending. On a tie the earlier label wins: it is the one the expert had
 * given when the frame was taken.
 */
export function pairNearest(
  frameTimes: readonly bigint[],
  labelTimes: readonly bigint[],
  maxLagNs: bigint,
): Int32Array {
  const out = new Int32Array(frameTimes.length).fill(-1);
  let j = 0;
  frameTimes.forEach((t, i) => {
    // Advance to the last label at or before t; the candidate after it is j + 1.
    while (j + 1 < labelTimes.length && labelTimes[j + 1]! <= t) j += 1;
    let best = -1;
    let bestLag = maxLagNs + 1n;
    for (const k of [j, j + 1]) {
      const lt = labelTimes[k];
      if (lt === undefined) continue;
      const lag = lt > t ? lt - t : t - lt;
      if (lag < bestLag) {
        best = k;
        bestLag = lag;
      }
    }
    out[i] = best;
  });
  return out;
}

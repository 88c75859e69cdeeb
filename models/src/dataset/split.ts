// The seeded train/test split. Membership is a pure function of (seed, recording name, frame
// index), so it is the same on every run and every machine, does not depend on which other
// files are in the dataset, and a frame never moves between train and test.

/** FNV-1a over UTF-16 code units, then the murmur3 finaliser to spread FNV's weak low bits. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform value in [0, 1) for one frame of one recording under one seed. */
export function splitValue(seed: number, recording: string, frameIndex: number): number {
  return hash32(`${seed}\u0000${recording}\u0000${frameIndex}`) / 4294967296;
}

export function inTestSplit(
  seed: number,
  recording: string,
  frameIndex: number,
  testFraction: number,
): boolean {
  return splitValue(seed, recording, frameIndex) < testFraction;
}

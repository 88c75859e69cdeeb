// Progress bars for long work: redrawn in a terminal, a line every few seconds in logs and CI
// (so a long run is never silent), always on stderr so stdout stays machine-readable.
import { Presets, SingleBar } from 'cli-progress';

export function progressBar(format: string): SingleBar {
  return new SingleBar(
    { format, hideCursor: true, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 5000 },
    Presets.shades_classic,
  );
}

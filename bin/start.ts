// `npm start`: until the simulator lands, the main job is the end-to-end inference benchmark on
// synthetic camera frames, so a new user sees the stack run and what it achieves.
import { benchInferenceCommand } from '../models/bench/inference.ts';

export async function startCommand(args: string[]): Promise<number> {
  console.log('fadnet-edge: FADNet steering, 640x480 camera frames -> preprocessing -> ONNX Runtime\n');
  return benchInferenceCommand(['--frames', '1000', ...args]);
}

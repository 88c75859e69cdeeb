// Training-step benchmark: median ms per step, batch 32 at 200x200, default backend and
// replica count (--replicas N to choose).
import { backendLine, initTfjs } from '../src/tfjs/backend.ts';
import { syntheticDataset } from '../src/train/dataset.ts';
import { defaultReplicas } from '../src/train/replicas.ts';
import { Trainer } from '../src/train/trainer.ts';
import { numberArg, optionalNumberArg, parseCommandArgs, round3, summarise } from '../../common/index.ts';

export async function benchTrainCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    json: { type: 'boolean', default: false },
    steps: { type: 'string', default: '12' },
    batch: { type: 'string', default: '32' },
    replicas: { type: 'string' },
  });
  if (parsed.help) return 0; // the dispatcher prints the bench's usage
  const { values } = parsed;
  const steps = numberArg('--steps', values.steps, { integer: true, min: 1 });
  const batch = numberArg('--batch', values.batch, { integer: true, min: 1, max: 1024 });
  const chosenReplicas = optionalNumberArg('--replicas', values.replicas, { integer: true, min: 1, max: 64 });
  const backend = await initTfjs({ log: () => {} });
  const replicas = chosenReplicas ?? defaultReplicas(backend.name);
  const trainer = await Trainer.create({
    config: { seed: 1, batchSize: batch, steps: steps + 2 },
    dataset: syntheticDataset(batch * 4, 1),
    replicas,
  });
  if (!values.json) console.error(backendLine(backend, trainer.replicas));
  const times: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    const report = await trainer.trainStep();
    if (i >= 2) times.push(report.ms); // the first steps compile kernels and grow memory
    if (!values.json)
      console.error(`step ${report.step}: ${report.ms.toFixed(1)} ms, loss ${report.loss.toFixed(4)}`);
  }
  await trainer.dispose();
  const s = summarise(times);
  const result = { step_ms: round3(s.p50), backend: backend.name, batch, replicas: trainer.replicas, steps };
  if (values.json) console.log(JSON.stringify(result));
  else
    console.log(
      `training step: median ${result.step_ms} ms (batch ${batch}, 200x200, backend ${backend.name}, ${result.replicas} replicas, ${steps} steps)`,
    );
  return 0;
}

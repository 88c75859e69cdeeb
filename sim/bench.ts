// `fadnet bench sim`: time of one simulation step (expert, physics, camera frame with domain
// randomisation) on one thread.
import { numberArg, parseCommandArgs, round3, summarise } from '../common/index.ts';
import { DEFAULT_RANDOMISATION, NO_RANDOMISATION } from './render/effects.ts';
import { Simulator } from './simulator.ts';
import { loadWorld } from './world/load.ts';

export async function benchSimCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    json: { type: 'boolean', default: false },
    world: { type: 'string', default: 'office-loop' },
    steps: { type: 'string', default: '1000' },
    'no-randomisation': { type: 'boolean', default: false },
  });
  if (parsed.help) return 0; // the dispatcher prints the bench's usage
  const { values } = parsed;
  const steps = numberArg('--steps', values.steps, { integer: true, min: 1 });
  const world = loadWorld(values.world);
  const randomisation = values['no-randomisation'] ? NO_RANDOMISATION : DEFAULT_RANDOMISATION;
  const sim = Simulator.create({ world, seed: 1, randomisation });
  const frame = new Uint8Array(sim.camera.width * sim.camera.height * 3);
  const warmup = 100;
  const total: number[] = [];
  const render: number[] = [];
  let cpu = process.cpuUsage();
  for (let i = 0; i < steps + warmup; i++) {
    if (i === warmup) cpu = process.cpuUsage();
    const t0 = performance.now();
    const r = sim.step(sim.expert().twist, 1 / 30);
    const t1 = performance.now();
    sim.render(frame);
    const t2 = performance.now();
    if (r.collided) sim.reset();
    if (i >= warmup) {
      total.push(t2 - t0);
      render.push(t2 - t1);
    }
  }
  // CPU time per step: wall-clock percentiles include time the process waited for a core on a
  // shared machine; this does not.
  const cpuUs = process.cpuUsage(cpu);
  const t = summarise(total);
  const result = {
    step_ms: round3(t.p50),
    p99_ms: round3(t.p99),
    render_ms: round3(summarise(render).p50),
    cpu_ms: round3((cpuUs.user + cpuUs.system) / 1000 / steps),
    world: world.name,
    frame: `${sim.camera.width}x${sim.camera.height} rgb8`,
    randomisation: !values['no-randomisation'],
    steps,
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `world             ${result.world} (${result.frame}, randomisation ${result.randomisation ? 'on' : 'off'})`,
    );
    console.log(`step              p50 ${result.step_ms} ms   p99 ${result.p99_ms} ms   (${steps} steps)`);
    console.log(`  render          p50 ${result.render_ms} ms`);
    console.log(`cpu time          ${result.cpu_ms} ms per step (mean)`);
  }
  return 0;
}

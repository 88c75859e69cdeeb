// TensorFlow.js backend selection: tfjs-node (native TensorFlow) when installed, else the
// WebAssembly backend (XNNPACK, SIMD), else plain JS. Stock kernels only: training on wasm adds
// its own when it asks for its op set (training/ops.ts), so inference never loads them.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle registers no gradients; the union package's bundle does.
import '@tensorflow/tfjs';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface BackendChoice {
  readonly name: BackendName;
  readonly detail: string;
}

// Held in a variable so TypeScript does not try to resolve the optional package.
const TFJS_NODE = '@tensorflow/tfjs-node';

async function tryBackend(name: BackendName): Promise<string | undefined> {
  switch (name) {
    case 'tensorflow': {
      try {
        await import(TFJS_NODE);
      } catch {
        return undefined; // not installed: the normal case on a machine without libtensorflow
      }
      return (await tf.setBackend('tensorflow')) ? 'native TensorFlow via @tensorflow/tfjs-node' : undefined;
    }
    case 'wasm': {
      await import('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) return undefined;
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      return `WebAssembly (XNNPACK${simd === true ? ', SIMD' : ''})`;
    }
    case 'cpu':
      return (await tf.setBackend('cpu')) ? 'plain JavaScript CPU backend' : undefined;
  }
}

let chosen: BackendChoice | undefined;

/**
 * The one line that says what runs: the backend and, for training, how many data-parallel
 * replicas (each a thread of its own). The wasm and cpu kernels are single-threaded; native
 * TensorFlow threads its own.
 */
export function backendLine(choice: BackendChoice, replicas = 1): string {
  const threads =
    replicas > 1
      ? `; ${replicas} data-parallel replicas, 1 thread each, batch norm synchronised`
      : choice.name === 'tensorflow'
        ? ''
        : '; 1 thread';
  return `tfjs backend: ${choice.name} (${choice.detail}${threads})`;
}

/**
 * Selects the first backend in `order` that works, logs one line saying which, and returns it.
 * Later calls return the same choice unless `force` names another order.
 */
export async function initTfjs(
  options: { order?: readonly BackendName[]; log?: (line: string) => void; force?: boolean } = {},
): Promise<BackendChoice> {
  if (chosen !== undefined && options.force !== true) return chosen;
  // Production mode: no debug checks, and no console banner urging tfjs-node on every start.
  tf.env().set('PROD', true);
  const order = options.order ?? BACKEND_ORDER;
  for (const name of order) {
    const detail = await tryBackend(name);
    if (detail !== undefined) {
      await tf.ready();
      chosen = { name, detail };
      (options.log ?? console.error)(backendLine(chosen));
      return chosen;
    }
  }
  throw new Error(`no TensorFlow.js backend among [${order.join(', ')}] could start`);
}

/** Switches to a specific backend (tests compare backends); does not log. */
export async function useBackend(name: BackendName): Promise<boolean> {
  const ok = (await tryBackend(name)) !== undefined;
  if (ok) await tf.ready();
  return ok;
}

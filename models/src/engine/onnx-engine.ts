// ONNX Runtime adapter. Execution providers are tried in the configured order (e.g. TensorRT,
// CUDA, QNN, CPU) and one line says what runs, so a robot never silently runs on the CPU.
import * as ort from 'onnxruntime-node';
import { InferenceError, ManifestError } from '../errors.ts';
import type { FrameSize } from '../fadnet/geometry.ts';
import { checkBatch, EngineConfigSchema, type EngineConfigInput, type SteeringEngine } from './engine.ts';
import { ortExecutionProvider, tensorrtEnvironment } from './providers.ts';

export interface OnnxEngineOptions {
  readonly onnx: Uint8Array;
  /**
   * The frame size the model package's input spec declares; the ONNX input must take exactly
   * that. Without it the engine takes the ONNX input's own size.
   */
  readonly input?: FrameSize;
  readonly inputName?: string;
  readonly outputName?: string;
  readonly config?: EngineConfigInput;
  readonly log?: (line: string) => void;
  /** The package's precision (fp32, fp16, int8), for the start-up line. */
  readonly precision?: string;
}

export class OnnxEngine implements SteeringEngine {
  readonly description: string;
  /** The frame size the model takes. */
  readonly input: FrameSize;
  readonly #session: ort.InferenceSession;
  readonly #inputName: string;
  readonly #outputName: string;
  // The batch-1 path reuses one input buffer and tensor: no allocation per frame.
  readonly #one: Float32Array;
  readonly #oneTensor: ort.Tensor;

  private constructor(
    session: ort.InferenceSession,
    inputName: string,
    outputName: string,
    description: string,
    input: FrameSize,
  ) {
    this.#session = session;
    this.#inputName = inputName;
    this.#outputName = outputName;
    this.description = description;
    this.input = input;
    this.#one = new Float32Array(input.height * input.width);
    this.#oneTensor = new ort.Tensor('float32', this.#one, [1, 1, input.height, input.width]);
  }

  static async create(options: OnnxEngineOptions): Promise<OnnxEngine> {
    const config = EngineConfigSchema.parse(options.config ?? {});
    // Probing an absent accelerator makes the runtime print a native error before it throws;
    // we report each unavailable provider in our own line instead. (Takes effect when the
    // runtime's environment is first created.)
    if (config.executionProviders.some((ep) => ep !== 'cpu')) ort.env.logLevel = 'fatal';
    const skipped: string[] = [];
    let session: ort.InferenceSession | undefined;
    let provider = '';
    let partial: string | undefined;
    for (const ep of config.executionProviders) {
      const epOptions = config.providerOptions[ep] ?? {};
      // The TensorRT provider reads its options from the environment when the binding cannot pass them.
      if (ep === 'tensorrt') Object.assign(process.env, tensorrtEnvironment(epOptions));
      const sessionOptions = (strict: boolean): ort.InferenceSession.SessionOptions => ({
        executionProviders: [ortExecutionProvider(ep, epOptions)],
        intraOpNumThreads: config.intraOpThreads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // An unavailable provider makes the runtime log a native error; we report it ourselves.
        logSeverityLevel: ep === 'cpu' ? 2 : 4,
        // Strict: the provider must take the whole graph, so a partial placement fails with ORT's reason.
        ...(strict ? { extra: { session: { disable_cpu_ep_fallback: '1' } } } : {}),
      });
      try {
        if (ep === 'cpu') session = await ort.InferenceSession.create(options.onnx, sessionOptions(false));
        else {
          try {
            session = await ort.InferenceSession.create(options.onnx, sessionOptions(true));
          } catch (strictError) {
            session = await ort.InferenceSession.create(options.onnx, sessionOptions(false));
            // It loads, but only with the CPU taking what it rejected: say so, with ORT's reason.
            partial = firstLine(strictError);
          }
        }
        provider = ep;
        break;
      } catch (error) {
        skipped.push(`${ep}: ${firstLine(error)}`);
      }
    }
    if (session === undefined) {
      throw new InferenceError(`no execution provider could start the model (${skipped.join('; ')})`);
    }
    const inputName = options.inputName ?? session.inputNames[0] ?? 'input';
    const outputName = options.outputName ?? session.outputNames[0] ?? 'steering';
    let input: FrameSize;
    try {
      input = frameSizeOf(session, inputName, options.input);
    } catch (error) {
      await session.release();
      throw error;
    }
    const threads = `${config.intraOpThreads} intra-op thread${config.intraOpThreads === 1 ? '' : 's'}`;
    const precision = options.precision === undefined ? '' : ` ${options.precision}`;
    const description = `onnxruntime ${provider}${precision}, ${threads}`;
    (options.log ?? console.error)(
      `inference: ${description}${skipped.length > 0 ? ` (unavailable: ${skipped.join('; ')})` : ''}`,
    );
    if (partial !== undefined) {
      (options.log ?? console.error)(
        `inference: ${provider} rejected part of the graph, which runs on the CPU: ${partial}`,
      );
    }
    const engine = new OnnxEngine(session, inputName, outputName, description, input);
    for (let i = 0; i < config.warmupRuns; i++) await engine.runOne(engine.#one);
    return engine;
  }

  async run(batch: Float32Array, n: number): Promise<Float32Array> {
    const wrong = checkBatch(batch, n, this.input);
    if (wrong !== undefined) throw new InferenceError(wrong);
    return this.#run(new ort.Tensor('float32', batch, [n, 1, this.input.height, this.input.width]));
  }

  async runOne(frame: Float32Array): Promise<number> {
    if (frame.length !== this.#one.length)
      throw new InferenceError(`frame has ${frame.length} values, expected ${this.#one.length}`);
    if (frame !== this.#one) this.#one.set(frame);
    const out = await this.#run(this.#oneTensor);
    return out[0]!;
  }

  async #run(input: ort.Tensor): Promise<Float32Array> {
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.#session.run({ [this.#inputName]: input });
    } catch (error) {
      throw new InferenceError('ONNX Runtime failed to run the model', { cause: error });
    }
    const out = result[this.#outputName];
    if (out === undefined || !(out.data instanceof Float32Array)) {
      throw new InferenceError(`model has no float32 output named ${this.#outputName}`);
    }
    return out.data;
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}

/**
 * The frame size of the model's input `name`: N x 1 x H x W with H and W fixed. With `declared`
 * (the manifest's input spec) the two must agree: a package that declares one size and holds a
 * model of another is refused, naming both.
 */
function frameSizeOf(
  session: ort.InferenceSession,
  name: string,
  declared: FrameSize | undefined,
): FrameSize {
  const meta = session.inputMetadata.find((m) => m.name === name);
  if (meta === undefined) throw new ManifestError(`the ONNX model has no input named ${name}`);
  const shape = meta.isTensor ? meta.shape : [];
  const [, c, h, w] = shape;
  const shown = `[${shape.join(', ')}]`;
  if (shape.length !== 4 || c !== 1 || typeof h !== 'number' || typeof w !== 'number') {
    throw new ManifestError(`ONNX input ${name} has shape ${shown}, not N x 1 x H x W with H and W fixed`);
  }
  if (declared !== undefined && (h !== declared.height || w !== declared.width)) {
    throw new ManifestError(
      `ONNX input ${name} has shape ${shown} but the input spec says 1 x ${declared.height} x ${declared.width}`,
    );
  }
  return { height: h, width: w };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 160);
}

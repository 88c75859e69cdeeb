// Execution-provider options as ONNX Runtime names them (trt_fp16_enable, backend_path, ...),
// passed through from configuration to the runtime. The Node binding reads only a few named
// fields of each provider object (deviceId; backendPath, backendType and enableFp16Precision for
// QNN), and its TensorRT provider takes the rest from ORT_TENSORRT_* environment variables, so
// both forms are produced here, from the one set of options.
import type { ExecutionProvider } from './engine.ts';

export type ProviderOptionValue = string | number | boolean;
export type ProviderOptions = Readonly<Record<string, ProviderOptionValue>>;

/** The binding's own field for an option, where it has one. */
const BINDING_FIELDS: Readonly<Record<string, string>> = {
  device_id: 'deviceId',
  backend_path: 'backendPath',
  backend_type: 'backendType',
  enable_htp_fp16_precision: 'enableFp16Precision',
};

/** The environment variable ONNX Runtime's TensorRT provider reads for an option. */
const TENSORRT_ENV: Readonly<Record<string, string>> = {
  trt_fp16_enable: 'ORT_TENSORRT_FP16_ENABLE',
  trt_int8_enable: 'ORT_TENSORRT_INT8_ENABLE',
  trt_engine_cache_enable: 'ORT_TENSORRT_ENGINE_CACHE_ENABLE',
  trt_engine_cache_path: 'ORT_TENSORRT_CACHE_PATH',
  trt_max_workspace_size: 'ORT_TENSORRT_MAX_WORKSPACE_SIZE',
};

/** The provider entry for InferenceSession.create: ORT's option names and the binding's fields. */
export function ortExecutionProvider(
  ep: ExecutionProvider,
  options: ProviderOptions = {},
): string | ({ readonly name: string } & Record<string, ProviderOptionValue>) {
  const entries = Object.entries(options);
  if (entries.length === 0) return ep;
  const out: Record<string, ProviderOptionValue> = {};
  for (const [key, value] of entries) {
    out[key] = value;
    const field = BINDING_FIELDS[key];
    if (field !== undefined) out[field] = value;
  }
  return { ...out, name: ep };
}

/** ORT_TENSORRT_* variables for TensorRT options (booleans as 1/0, as the provider parses them). */
export function tensorrtEnvironment(options: ProviderOptions = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options)) {
    const name = TENSORRT_ENV[key];
    if (name !== undefined) env[name] = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
  }
  return env;
}

// Choosing a package and its accelerator per robot: the platform parameter files, the provider
// options they pass through to ONNX Runtime, the precision check, and the engine's start-up line.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OnnxEngine } from '../../models/src/engine/onnx-engine.ts';
import { ortExecutionProvider, tensorrtEnvironment } from '../../models/src/engine/providers.ts';
import { loadModelPackage } from '../../models/src/files.ts';
import { precisionOf } from '../../models/src/quantize/index.ts';
import { parametersFromYaml, resolveParameters } from '../../nodes/runtime/index.ts';
import { checkedPrecision, providerOptionsFrom } from '../../nodes/steering/accelerator.ts';
import { STEERING_NODE_NAME, STEERING_PARAMS } from '../../nodes/steering/params.ts';

function platform(file: string) {
  const text = readFileSync(`launch/params/${file}`, 'utf8');
  return resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS, [
    { name: file, values: parametersFromYaml(text, STEERING_NODE_NAME, file) },
  ]);
}

describe('platform parameter files', () => {
  it('rb5.yaml: QNN with the HTP backend and the int8 package, the CPU last', async () => {
    const p = platform('rb5.yaml');
    expect(p.execution_providers).toEqual(['qnn', 'cpu']);
    expect(p.model_precision).toBe('int8');
    expect(providerOptionsFrom(p)).toEqual({
      qnn: { backend_path: 'libQnnHtp.so', htp_performance_mode: 'burst' },
      tensorrt: {
        device_id: 0,
        trt_fp16_enable: false,
        trt_int8_enable: false,
        trt_engine_cache_enable: false,
        trt_max_workspace_size: 1073741824,
      },
      cuda: { device_id: 0 },
    });
    const { manifest } = await loadModelPackage(p.model_manifest);
    expect(checkedPrecision(p.model_precision, manifest, 'n')).toBe('int8');
  });

  it('jetson.yaml: TensorRT in fp16 with an engine cache and workspace, then CUDA, the CPU last', async () => {
    const p = platform('jetson.yaml');
    expect(p.execution_providers).toEqual(['tensorrt', 'cuda', 'cpu']);
    expect(providerOptionsFrom(p).tensorrt).toEqual({
      device_id: 0,
      trt_fp16_enable: true,
      trt_int8_enable: false,
      trt_engine_cache_enable: true,
      trt_engine_cache_path: '/var/cache/fadnet/tensorrt',
      trt_max_workspace_size: 1073741824,
    });
    const { manifest } = await loadModelPackage(p.model_manifest);
    expect(precisionOf(manifest)).toBe('fp16');
    expect(checkedPrecision(p.model_precision, manifest, 'n')).toBe('fp16');
  });

  it('a robot configured for int8 refuses a float32 package, naming both', async () => {
    const { manifest } = await loadModelPackage('models/shipped/fadnet-sim.manifest.json');
    expect(() => checkedPrecision('int8', manifest, 'fadnet_steering')).toThrow(
      'parameter model_precision of node fadnet_steering is int8, but model fadnet-sim@1.1.0 is fp32',
    );
    expect(checkedPrecision('', manifest, 'fadnet_steering')).toBe('fp32');
  });
});

describe('provider options reach ONNX Runtime', () => {
  it('under ORT names, with the Node binding fields beside them', () => {
    expect(
      ortExecutionProvider('qnn', { backend_path: 'libQnnHtp.so', htp_performance_mode: 'burst' }),
    ).toEqual({
      name: 'qnn',
      backend_path: 'libQnnHtp.so',
      backendPath: 'libQnnHtp.so',
      htp_performance_mode: 'burst',
    });
    expect(ortExecutionProvider('cpu', {})).toBe('cpu');
  });

  it('TensorRT options as the ORT_TENSORRT_* variables its provider reads', () => {
    expect(
      tensorrtEnvironment({
        device_id: 0,
        trt_fp16_enable: true,
        trt_engine_cache_enable: true,
        trt_engine_cache_path: '/var/cache/fadnet/tensorrt',
        trt_max_workspace_size: 1073741824,
      }),
    ).toEqual({
      ORT_TENSORRT_FP16_ENABLE: '1',
      ORT_TENSORRT_ENGINE_CACHE_ENABLE: '1',
      ORT_TENSORRT_CACHE_PATH: '/var/cache/fadnet/tensorrt',
      ORT_TENSORRT_MAX_WORKSPACE_SIZE: '1073741824',
    });
  });

  it('the start-up line says which provider and which precision run, and why the others did not', async () => {
    const { onnx, manifest } = await loadModelPackage('models/shipped/fadnet-sim-int8.manifest.json');
    const lines: string[] = [];
    const engine = await OnnxEngine.create({
      onnx,
      input: manifest.input,
      precision: precisionOf(manifest),
      config: {
        executionProviders: ['qnn', 'cpu'],
        providerOptions: { qnn: { backend_path: 'libQnnHtp.so' } },
        warmupRuns: 1,
      },
      log: (l) => lines.push(l),
    });
    await engine.dispose();
    // This machine's ONNX Runtime has no QNN: it is reported with the runtime's reason.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^inference: onnxruntime cpu int8, 1 intra-op thread \(unavailable: qnn: .+\)$/);
  });
});

// Every parameter of the steering node, with type, default and range (ROS 2 declares them so).
import { EXECUTION_PROVIDERS } from '../../models/src/engine/engine.ts';
import type { ParamDecls } from '../runtime/params.ts';

export const STEERING_NODE_NAME = 'fadnet_steering';

export const STEERING_PARAMS = {
  camera_topic: {
    type: 'string',
    default: '/camera/camera/color/image_raw',
    description: 'colour image topic (the realsense2_camera driver publishes here)',
  },
  compressed: {
    type: 'bool',
    default: false,
    description: 'subscribe to <camera_topic>/compressed (jpeg/png) instead of raw',
  },
  cmd_vel_topic: { type: 'string', default: '/cmd_vel', description: 'velocity command output' },
  use_stamped: {
    type: 'bool',
    default: false,
    description: 'publish geometry_msgs/TwistStamped instead of Twist',
  },
  enable_topic: {
    type: 'string',
    default: '/fadnet/enable',
    description: 'std_msgs/Bool that starts and stops autonomous driving',
  },
  steering_topic: {
    type: 'string',
    default: '/fadnet/steering',
    description: 'raw model output (std_msgs/Float32)',
  },
  diagnostics_topic: {
    type: 'string',
    default: '/diagnostics',
    description: 'diagnostic_msgs/DiagnosticArray output',
  },
  autonomous_on_start: {
    type: 'bool',
    default: false,
    description: 'drive without waiting for the enable topic',
  },
  model_manifest: {
    type: 'string',
    default: 'models/shipped/fadnet-sim.manifest.json',
    description: 'model manifest (ONNX beside it)',
  },
  model_store: {
    type: 'string',
    default: '',
    description:
      'OTA model store (fleet/ota): drive the model its active.json names and follow it when it moves; empty: model_manifest only',
  },
  model_store_poll_ms: {
    type: 'double',
    default: 500,
    min: 10,
    max: 60_000,
    description: 'how often the model store pointer is checked, and the health file written (wall ms)',
  },
  execution_providers: {
    type: 'string_array',
    default: ['cpu'],
    choices: EXECUTION_PROVIDERS,
    minItems: 1,
    description: 'ONNX Runtime providers in preference order, e.g. [tensorrt, cuda, qnn, cpu]',
  },
  intra_op_threads: {
    type: 'integer',
    default: 1,
    min: 1,
    max: 64,
    description: 'ONNX Runtime intra-op threads',
  },
  model_precision: {
    type: 'string',
    default: '',
    choices: ['', 'fp32', 'fp16', 'int8'],
    description: 'precision the model package must have (empty: whatever its manifest says)',
  },
  // Execution-provider options, passed to ONNX Runtime under its own names (<provider>.<option>);
  // an empty string leaves ONNX Runtime's default.
  'qnn.backend_path': {
    type: 'string',
    default: '',
    description: 'QNN backend library, e.g. libQnnHtp.so (the Hexagon NPU)',
  },
  'qnn.htp_performance_mode': {
    type: 'string',
    default: '',
    choices: [
      '',
      'burst',
      'balanced',
      'default',
      'high_performance',
      'sustained_high_performance',
      'power_saver',
    ],
    description: 'QNN HTP performance mode',
  },
  'tensorrt.device_id': { type: 'integer', default: 0, min: 0, max: 15, description: 'TensorRT GPU' },
  'tensorrt.trt_fp16_enable': { type: 'bool', default: false, description: 'TensorRT builds fp16 kernels' },
  'tensorrt.trt_int8_enable': {
    type: 'bool',
    default: false,
    description: 'TensorRT builds int8 kernels (QDQ packages)',
  },
  'tensorrt.trt_engine_cache_enable': {
    type: 'bool',
    default: false,
    description: 'keep built TensorRT engines so later starts skip the build',
  },
  'tensorrt.trt_engine_cache_path': {
    type: 'string',
    default: '',
    description: 'TensorRT engine cache directory',
  },
  'tensorrt.trt_max_workspace_size': {
    type: 'integer',
    default: 1073741824,
    min: 0,
    max: 68719476736,
    description: 'TensorRT builder workspace (bytes)',
  },
  'cuda.device_id': { type: 'integer', default: 0, min: 0, max: 15, description: 'CUDA GPU' },
  steering_gain: {
    type: 'double',
    default: 1.0,
    min: 0,
    max: 20,
    description: 'rad/s of angular.z per unit of steering',
  },
  steering_sign: {
    type: 'integer',
    default: 1,
    choices: [-1, 1],
    description: '+1 or -1; flip if the robot turns the wrong way',
  },
  steering_offset: {
    type: 'double',
    default: 0,
    min: -1,
    max: 1,
    description: 'added to the raw steering before the gain',
  },
  smoothing: {
    type: 'double',
    default: 0.6,
    min: 0.01,
    max: 1,
    description: 'weight of the newest value (1 = none)',
  },
  max_angular_rate: {
    type: 'double',
    default: 1.5,
    min: 0,
    max: 10,
    description: 'clamp on |angular.z| (rad/s)',
  },
  cruise_speed: {
    type: 'double',
    default: 0.5,
    min: 0,
    max: 5,
    description: 'forward speed going straight (m/s)',
  },
  turn_slowdown: {
    type: 'double',
    default: 0.5,
    min: 0,
    max: 1,
    description: 'fraction of cruise speed shed at full steering',
  },
  max_linear_accel: { type: 'double', default: 1.0, min: 0.01, max: 20, description: 'm/s^2' },
  max_angular_accel: { type: 'double', default: 6.0, min: 0.01, max: 100, description: 'rad/s^2' },
  max_frame_age_ms: {
    type: 'double',
    default: 200,
    min: 1,
    max: 10_000,
    description: 'stop when the newest frame is older',
  },
  inference_deadline_ms: {
    type: 'double',
    default: 100,
    min: 1,
    max: 10_000,
    description: 'stop when an inference runs longer',
  },
  future_tolerance_ms: {
    type: 'double',
    default: 50,
    min: 0,
    max: 10_000,
    description: 'frame stamps further ahead mean a clock jump',
  },
  stop_ramp_s: {
    type: 'double',
    default: 0.3,
    min: 0.01,
    max: 5,
    description: 'time to ramp the command to zero when stopping',
  },
  control_rate_hz: {
    type: 'double',
    default: 50,
    min: 1,
    max: 1000,
    description: 'watchdog and command keep-alive rate',
  },
  diagnostics_rate_hz: {
    type: 'double',
    default: 1,
    min: 0.1,
    max: 100,
    description: 'diagnostics and status rate',
  },
} as const satisfies ParamDecls;

// The .msg texts of the ROS 2 types the stack records, and the complete definition rosbag2
// stores as an MCAP schema (encoding `ros2msg`). Kept as text rather than built from parsed
// objects because readers (Foxglove, `ros2 bag`, our dataset) parse exactly this text.
import type { MessageTypeName } from '../runtime/index.ts';

/** Keyed as .msg files reference each other: `package/Type`, without the `msg/` namespace. */
const MSG_TEXT: Readonly<Record<string, string>> = {
  'builtin_interfaces/Time': `# Time indicates a specific point in time, relative to a clock's 0 point.

# The seconds component, valid over all int32 values.
int32 sec

# The nanoseconds component, valid in the range [0, 10e9).
uint32 nanosec
`,
  'std_msgs/Header': `# Standard metadata for higher-level stamped data types.

# Two-integer timestamp that is expressed as seconds and nanoseconds.
builtin_interfaces/Time stamp

# Transform frame with which this data is associated.
string frame_id
`,
  'std_msgs/Float32': `float32 data
`,
  'std_msgs/Bool': `bool data
`,
  'sensor_msgs/Image': `# This message contains an uncompressed image
# (0, 0) is at top-left corner of image

std_msgs/Header header # Header timestamp should be acquisition time of image
                       # Header frame_id should be optical frame of camera

uint32 height                # image height, that is, number of rows
uint32 width                 # image width, that is, number of columns

string encoding       # Encoding of pixels -- channel meaning, ordering, size

uint8 is_bigendian    # is this data bigendian?
uint32 step           # Full row length in bytes
uint8[] data          # actual matrix data, size is (step * rows)
`,
  'sensor_msgs/CompressedImage': `# This message contains a compressed image.

std_msgs/Header header # Header timestamp should be acquisition time of image

string format                # Specifies the format of the data (jpeg, png, ...)

uint8[] data                 # Compressed image buffer
`,
  'sensor_msgs/BatteryState': `# Constants are chosen to match the enums in the linux kernel
# defined in include/linux/power_supply.h as of version 3.7

# Power supply status constants
uint8 POWER_SUPPLY_STATUS_UNKNOWN = 0
uint8 POWER_SUPPLY_STATUS_CHARGING = 1
uint8 POWER_SUPPLY_STATUS_DISCHARGING = 2
uint8 POWER_SUPPLY_STATUS_NOT_CHARGING = 3
uint8 POWER_SUPPLY_STATUS_FULL = 4

# Power supply health constants
uint8 POWER_SUPPLY_HEALTH_UNKNOWN = 0
uint8 POWER_SUPPLY_HEALTH_GOOD = 1
uint8 POWER_SUPPLY_HEALTH_OVERHEAT = 2
uint8 POWER_SUPPLY_HEALTH_DEAD = 3
uint8 POWER_SUPPLY_HEALTH_OVERVOLTAGE = 4
uint8 POWER_SUPPLY_HEALTH_UNSPEC_FAILURE = 5
uint8 POWER_SUPPLY_HEALTH_COLD = 6
uint8 POWER_SUPPLY_HEALTH_WATCHDOG_TIMER_EXPIRE = 7
uint8 POWER_SUPPLY_HEALTH_SAFETY_TIMER_EXPIRE = 8

# Power supply technology (chemistry) constants
uint8 POWER_SUPPLY_TECHNOLOGY_UNKNOWN = 0
uint8 POWER_SUPPLY_TECHNOLOGY_NIMH = 1
uint8 POWER_SUPPLY_TECHNOLOGY_LION = 2
uint8 POWER_SUPPLY_TECHNOLOGY_LIPO = 3
uint8 POWER_SUPPLY_TECHNOLOGY_LIFE = 4
uint8 POWER_SUPPLY_TECHNOLOGY_NICD = 5
uint8 POWER_SUPPLY_TECHNOLOGY_LIMN = 6

std_msgs/Header  header
float32 voltage          # Voltage in Volts (Mandatory)
float32 temperature      # Temperature in Degrees Celsius (If unmeasured NaN)
float32 current          # Negative when discharging (A)  (If unmeasured NaN)
float32 charge           # Current charge in Ah  (If unmeasured NaN)
float32 capacity         # Capacity in Ah (last full capacity)  (If unmeasured NaN)
float32 design_capacity  # Capacity in Ah (design capacity)  (If unmeasured NaN)
float32 percentage       # Charge percentage on 0 to 1 range  (If unmeasured NaN)
uint8   power_supply_status     # The charging status as reported. Values defined above
uint8   power_supply_health     # The battery health metric. Values defined above
uint8   power_supply_technology # The battery chemistry. Values defined above
bool    present          # True if the battery is present

float32[] cell_voltage   # An array of individual cell voltages for each cell in the pack
float32[] cell_temperature # An array of individual cell temperatures for each cell in the pack

string location          # The location into which the battery is inserted. (slot number or plug)
string serial_number     # The best approximation of the battery serial number
`,
  'geometry_msgs/Vector3': `# This represents a vector in free space.

float64 x
float64 y
float64 z
`,
  'geometry_msgs/Twist': `# This expresses velocity in free space broken into its linear and angular parts.

Vector3  linear
Vector3  angular
`,
  'geometry_msgs/TwistStamped': `# A twist with reference coordinate frame and timestamp

std_msgs/Header header
Twist twist
`,
  'geometry_msgs/Point': `# This contains the position of a point in free space
float64 x
float64 y
float64 z
`,
  'geometry_msgs/Quaternion': `# This represents an orientation in free space in quaternion form.

float64 x 0
float64 y 0
float64 z 0
float64 w 1
`,
  'geometry_msgs/Pose': `# A representation of pose in free space, composed of position and orientation.

Point position
Quaternion orientation
`,
  'geometry_msgs/PoseWithCovariance': `# This represents a pose in free space with uncertainty.

Pose pose

# Row-major representation of the 6x6 covariance matrix
float64[36] covariance
`,
  'geometry_msgs/TwistWithCovariance': `# This expresses velocity in free space with uncertainty.

Twist twist

# Row-major representation of the 6x6 covariance matrix
float64[36] covariance
`,
  'nav_msgs/Odometry': `# This represents an estimate of a position and velocity in free space.

std_msgs/Header header

# Frame id the pose points to. The twist is in this coordinate frame.
string child_frame_id

# Estimated pose that is typically relative to a fixed world frame.
geometry_msgs/PoseWithCovariance pose

# Estimated linear and angular velocity relative to child_frame_id.
geometry_msgs/TwistWithCovariance twist
`,
  'diagnostic_msgs/KeyValue': `# What to label this value when viewing.
string key
# A value to track over time.
string value
`,
  'diagnostic_msgs/DiagnosticStatus': `# This message holds the status of an individual component of the robot.

# Possible levels of operations.
byte OK=0
byte WARN=1
byte ERROR=2
byte STALE=3

# Level of operation enumerated above.
byte level
# A description of the test/component reporting.
string name
# A description of the status.
string message
# A hardware unique string.
string hardware_id
# An array of values associated with the status.
KeyValue[] values
`,
  'diagnostic_msgs/DiagnosticArray': `# This message is used to send diagnostic information about the state of the robot.
std_msgs/Header header # for timestamp
DiagnosticStatus[] status # an array of components being reported on
`,
  'rosgraph_msgs/Clock': `# This message communicates the current time.
#
# For more information, see https://design.ros2.org/articles/clock_and_time.html.
builtin_interfaces/Time clock
`,
};

const PRIMITIVES = new Set([
  'bool',
  'byte',
  'char',
  'float32',
  'float64',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'string',
]);

// The field-type pattern rosbag2's LocalMessageDefinitionSource uses, so dependencies are found,
// named and ordered exactly as `ros2 bag record` would write them.
const FIELD_TYPE = /(?:^|\n)\s*([a-zA-Z0-9_/]+)(?:\[[^\]]*\])?\s+/g;

function dependencies(text: string, pkg: string): string[] {
  const deps = new Set<string>();
  for (const match of text.matchAll(FIELD_TYPE)) {
    const type = match[1];
    if (type === undefined || PRIMITIVES.has(type)) continue;
    deps.add(type.includes('/') ? type : `${pkg}/${type}`);
  }
  return [...deps].sort();
}

const DELIMITER = '='.repeat(80);

/** `sensor_msgs/msg/Image` -> `sensor_msgs/Image`, the key .msg files use. */
function shortName(type: string): string {
  const parts = type.split('/');
  return parts.length === 3 && parts[1] === 'msg' ? `${parts[0]}/${parts[2]}` : type;
}

function msgText(name: string): string {
  const text = MSG_TEXT[name];
  if (text === undefined) throw new Error(`no .msg text for ${name}`);
  return text;
}

/**
 * The complete `ros2msg` definition of a type: its .msg text, then each dependency not yet
 * written, depth first in sorted order, after a line of 80 `=` and `MSG: package/Type`.
 */
export function ros2msgDefinition(type: MessageTypeName): string {
  const seen = new Set<string>();
  const append = (name: string): string => {
    const text = msgText(name);
    const pkg = name.split('/')[0] ?? '';
    let out = text;
    for (const dep of dependencies(text, pkg)) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      out += `\n${DELIMITER}\nMSG: ${dep}\n${append(dep)}`;
    }
    return out;
  };
  return append(shortName(type));
}

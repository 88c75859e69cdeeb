// Node parameters, declared with type, default and range as ROS 2 nodes declare them; values
// come from defaults, then params YAML files (ROS 2 format), then command-line overrides.
// Validation is separate from applying: a node starts only if every value is valid.
import { parse as parseYaml } from 'yaml';

/** ROS 2's parameter kinds that nodes here use; `string_array` is ROS 2's STRING_ARRAY. */
export type ParamType = 'double' | 'integer' | 'bool' | 'string' | 'string_array';
type ElementOf<T extends ParamType> = T extends 'double' | 'integer'
  ? number
  : T extends 'bool'
    ? boolean
    : string;
type ValueOf<T extends ParamType> = T extends 'string_array' ? readonly string[] : ElementOf<T>;

export interface ParamDecl<T extends ParamType = ParamType> {
  readonly type: T;
  readonly default: ValueOf<T>;
  readonly description: string;
  /** Bounds of a number (inclusive). */
  readonly min?: number;
  readonly max?: number;
  /** The only values allowed; for a string_array, the only values each element may take. */
  readonly choices?: readonly ElementOf<T>[];
  /** Fewest elements a string_array may have. */
  readonly minItems?: number;
}

export type ParamDecls = Readonly<Record<string, ParamDecl>>;
// A parameter declared with choices has exactly those values as its type (steering_sign: -1 | 1).
type DeclValue<P extends ParamDecl> = P extends { readonly choices: readonly (infer C)[] }
  ? P['type'] extends 'string_array'
    ? readonly C[]
    : C
  : ValueOf<P['type']>;
export type ParamValues<D extends ParamDecls> = { -readonly [K in keyof D]: DeclValue<D[K]> };

/**
 * Parameters every ROS 2 node has, whatever it declares (rclcpp's TimeSource declares
 * use_sim_time on every node). Checked like declared ones: `use_sim_time: yes` stops start-up.
 */
export const NODE_PARAMS = {
  use_sim_time: {
    type: 'bool',
    default: false,
    description: 'the node clock follows /clock (rosgraph_msgs/Clock), as under Gazebo or CARLA',
  },
} as const satisfies ParamDecls;

/** A node's parameter values: its declarations plus those every node has. */
export type NodeParamValues<D extends ParamDecls> = ParamValues<D & typeof NODE_PARAMS>;

export class ParameterError extends Error {
  override readonly name = 'ParameterError';
  constructor(
    message: string,
    readonly node: string,
    readonly parameter: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Parameter files as ROS 2 writes them: `node_name:` (or `/**:`) then `ros__parameters:`. */
export function parametersFromYaml(
  text: string,
  node: string,
  source = 'params file',
): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new ParameterError(`${source} is not valid YAML`, node, '', { cause: error });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new ParameterError(`${source} must map node names to parameters`, node, '');
  const out: Record<string, unknown> = {};
  for (const key of ['/**', node, `/${node}`]) {
    const section = (doc as Record<string, unknown>)[key];
    if (section === undefined) continue;
    const params = (section as Record<string, unknown> | null)?.['ros__parameters'];
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw new ParameterError(`${source}: section ${key} has no ros__parameters mapping`, node, '');
    }
    flatten(params as Record<string, unknown>, '', out);
  }
  return out;
}

// Nested YAML maps become dotted names, as in ROS 2.
function flatten(obj: Record<string, unknown>, prefix: string, out: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(obj)) {
    const name = prefix === '' ? k : `${prefix}.${k}`;
    if (typeof v === 'object' && v !== null && !Array.isArray(v))
      flatten(v as Record<string, unknown>, name, out);
    else out[name] = v;
  }
}

/**
 * `-p name:=value` style overrides; values parse as YAML like `ros2 run` does, so
 * `-p providers:=[cuda,cpu]` is a list.
 */
export function parseOverrides(pairs: readonly string[], node: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf(':=');
    if (at <= 0) throw new ParameterError(`parameter override "${pair}" is not name:=value`, node, pair);
    out[pair.slice(0, at)] = parseYaml(pair.slice(at + 2)) as unknown;
  }
  return out;
}

function check(node: string, name: string, decl: ParamDecl, value: unknown, source: string): unknown {
  const where = `parameter ${name} of node ${node} (from ${source})`;
  const choices = decl.choices as readonly unknown[] | undefined;
  const outsideChoices = (v: unknown): boolean => choices !== undefined && !choices.includes(v);
  const expected = (): string => `expected one of ${choices!.map((c) => JSON.stringify(c)).join(', ')}`;
  switch (decl.type) {
    case 'double':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new ParameterError(`${where} must be a ${decl.type}, got ${JSON.stringify(value)}`, node, name);
      }
      if (decl.type === 'integer' && !Number.isInteger(value)) {
        throw new ParameterError(`${where} must be an integer, got ${value}`, node, name);
      }
      if ((decl.min !== undefined && value < decl.min) || (decl.max !== undefined && value > decl.max)) {
        throw new ParameterError(
          `${where} is ${value}, outside [${decl.min ?? '-inf'}, ${decl.max ?? 'inf'}]`,
          node,
          name,
        );
      }
      if (outsideChoices(value)) throw new ParameterError(`${where} is ${value}, ${expected()}`, node, name);
      return value;
    }
    case 'bool':
      if (typeof value !== 'boolean')
        throw new ParameterError(`${where} must be true or false, got ${JSON.stringify(value)}`, node, name);
      return value;
    case 'string':
      if (typeof value !== 'string')
        throw new ParameterError(`${where} must be a string, got ${JSON.stringify(value)}`, node, name);
      if (outsideChoices(value))
        throw new ParameterError(`${where} is "${value}", ${expected()}`, node, name);
      return value;
    case 'string_array': {
      // As ROS 2's STRING_ARRAY: a YAML list in a params file, `-p name:=[a,b]` on the command line.
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        throw new ParameterError(
          `${where} must be a list of strings such as [a, b], got ${JSON.stringify(value)}`,
          node,
          name,
        );
      }
      const bad = (value as string[]).find(outsideChoices);
      if (bad !== undefined) throw new ParameterError(`${where} has "${bad}", ${expected()}`, node, name);
      if (decl.minItems !== undefined && value.length < decl.minItems) {
        throw new ParameterError(
          `${where} has ${value.length} items, needs at least ${decl.minItems}`,
          node,
          name,
        );
      }
      return [...(value as string[])];
    }
  }
}

/**
 * Resolves every declared parameter from its sources (later ones win) and validates all of
 * them; throws ParameterError naming the parameter. Unknown names are errors too: a typo in a
 * params file must not silently leave a default in force on a robot.
 */
export function resolveParameters<D extends ParamDecls>(
  node: string,
  decls: D,
  sources: readonly { readonly name: string; readonly values: Readonly<Record<string, unknown>> }[] = [],
): NodeParamValues<D> {
  const all: ParamDecls = { ...NODE_PARAMS, ...decls };
  const out: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(all))
    out[name] = check(node, name, decl, decl.default, 'default');
  for (const source of sources) {
    for (const [name, value] of Object.entries(source.values)) {
      const decl = all[name];
      if (decl === undefined) {
        throw new ParameterError(`node ${node} has no parameter ${name} (from ${source.name})`, node, name);
      }
      // A double parameter accepts an integer literal, as ROS 2 YAML users write `gain: 1`.
      out[name] = check(node, name, decl, value, source.name);
    }
  }
  return out as NodeParamValues<D>;
}

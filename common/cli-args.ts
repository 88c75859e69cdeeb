// Command-line arguments for every `fadnet` subcommand: node:util's parseArgs plus what each
// command needs and parseArgs lacks: `--help`, a typed error for bad input, and numeric flags
// checked with one line that names the flag and the value given. Library CLIs import this
// rather than bin/, which only dispatches.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

/**
 * Bad command-line input. The dispatcher prints it as one line and exits 2; the message names
 * the flag and what was given.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O; strict: true; allowPositionals: true }>
>;

export type CommandArgs<O extends ParseArgsOptionsConfig> =
  | { readonly help: true }
  | {
      readonly help: false;
      readonly values: Parsed<O>['values'];
      readonly positionals: Parsed<O>['positionals'];
    };

/** True when the arguments ask for usage (`--help` or `-h`, before any `--`). */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  const own = end < 0 ? args : args.slice(0, end);
  return own.includes('--help') || own.includes('-h');
}

/**
 * Parses `args` strictly against `options`. `--help` anywhere wins over every other problem,
 * so `fadnet export --weights --help` still prints usage. Positionals are refused unless
 * `allowPositionals` is set.
 */
export function parseCommandArgs<const O extends ParseArgsOptionsConfig>(
  args: readonly string[],
  options: O,
  config: { readonly allowPositionals?: boolean } = {},
): CommandArgs<O> {
  if (wantsHelp(args)) return { help: true };
  // parseArgs reads `--laps -1` as a flag missing its value then an option -1; a negative
  // number after a string flag is that flag's value, to be checked like any other.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const option = arg.startsWith('--') ? options[arg.slice(2)] : undefined;
    if (option?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args: joined, options, strict: true, allowPositionals: true });
  } catch (error) {
    // parseArgs' messages name the option; its advice about '--' is noise here.
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(message, { cause: error });
  }
  if (config.allowPositionals !== true && parsed.positionals.length > 0)
    throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  return { help: false, values: parsed.values, positionals: parsed.positionals };
}

export interface NumberRule {
  /** Whole numbers only. */
  readonly integer?: boolean;
  /** Smallest allowed value (inclusive). */
  readonly min?: number;
  /** Largest allowed value (inclusive). */
  readonly max?: number;
  /** Values must be strictly greater than this. */
  readonly above?: number;
}

function describeRule(rule: NumberRule): string {
  const kind = rule.integer === true ? 'a whole number' : 'a number';
  const bounds: string[] = [];
  if (rule.above !== undefined) bounds.push(`above ${rule.above}`);
  if (rule.min !== undefined && rule.max !== undefined) bounds.push(`from ${rule.min} to ${rule.max}`);
  else if (rule.min !== undefined) bounds.push(`of at least ${rule.min}`);
  else if (rule.max !== undefined) bounds.push(`of at most ${rule.max}`);
  return [kind, ...bounds].join(' ');
}

/**
 * The value of a numeric flag, or a UsageError naming the flag, the rule and the text given:
 * `--laps must be a whole number of at least 1, got "0"`. Empty text, `NaN`, `Infinity` and
 * trailing junk (`12abc`) are refused; `Number()` alone would turn '' into 0.
 */
export function numberArg(flag: string, text: string, rule: NumberRule = {}): number {
  const value = text.trim() === '' ? Number.NaN : Number(text);
  const ok =
    Number.isFinite(value) &&
    (rule.integer !== true || Number.isInteger(value)) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.max === undefined || value <= rule.max) &&
    (rule.above === undefined || value > rule.above);
  if (!ok) throw new UsageError(`${flag} must be ${describeRule(rule)}, got "${text}"`);
  return value;
}

/** numberArg for a flag that may be absent. */
export function optionalNumberArg(
  flag: string,
  text: string | undefined,
  rule: NumberRule = {},
): number | undefined {
  return text === undefined ? undefined : numberArg(flag, text, rule);
}

/** One of a fixed set of words: `--engine must be one of onnx, tfjs, got "gpu"`. */
export function choiceArg<const C extends string>(flag: string, text: string, choices: readonly C[]): C {
  if (!(choices as readonly string[]).includes(text))
    throw new UsageError(`${flag} must be one of ${choices.join(', ')}, got "${text}"`);
  return text as C;
}

/** A flag that must be given. */
export function requiredArg(flag: string, value: string | undefined): string {
  if (value === undefined) throw new UsageError(`${flag} is required`);
  return value;
}

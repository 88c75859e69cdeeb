// World files on disk: the adapter between JSON files and the pure world schema.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildScene } from '../scene.ts';
import { TrackGeometryError } from '../track.ts';
import { WorldSchema, type World } from './schema.ts';

/** The bundled worlds; `loadWorld(name)` looks here. */
export const WORLDS_DIR = fileURLToPath(new URL('../worlds/', import.meta.url));

/**
 * Test worlds: looks and layouts no model is trained or tuned on, to measure generalisation
 * (sim/GENERALISATION.md). `loadWorld(name)` finds them after the bundled ones; `listWorlds()`
 * never lists them, so nothing that picks training worlds from that list can pick one.
 */
export const TEST_WORLDS_DIR = fileURLToPath(new URL('../worlds/test/', import.meta.url));

/** A world file that cannot be used; `field` is the dotted path of the offending field. */
export class WorldError extends Error {
  override readonly name = 'WorldError';
  constructor(
    readonly file: string,
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${field === '' ? '' : `${field}: `}${message}`, options);
  }
}

/**
 * Validates parsed JSON as a world, including its geometry (drivable curvature, walls that do not
 * cross, distractors off the lane). `source` names the file in errors.
 */
export function parseWorld(json: unknown, source: string): World {
  const parsed = WorldSchema.safeParse(json);
  if (!parsed.success) {
    // One line per problem, each naming the file and the field; `field` is the first one's.
    const [first, ...rest] = parsed.error.issues.map((i) => ({
      field: i.path.map(String).join('.'),
      message: i.message,
    }));
    const more = rest.map((i) => `\n${source}: ${i.field === '' ? '' : `${i.field}: `}${i.message}`);
    throw new WorldError(source, first!.field, `${first!.message}${more.join('')}`, {
      cause: parsed.error,
    });
  }
  try {
    buildScene(parsed.data);
  } catch (error) {
    if (error instanceof TrackGeometryError)
      throw new WorldError(source, error.field, error.message, { cause: error });
    throw error;
  }
  return parsed.data;
}

/** A bundled world by name (`office-loop`) or any world file by path (`./my.json`). */
export function loadWorld(nameOrPath: string): World {
  const isPath = nameOrPath.endsWith('.json') || nameOrPath.includes('/');
  const bundled = join(WORLDS_DIR, `${nameOrPath}.json`);
  const test = join(TEST_WORLDS_DIR, `${nameOrPath}.json`);
  const file = isPath ? nameOrPath : !existsSync(bundled) && existsSync(test) ? test : bundled;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const known = isPath
      ? ''
      : `; bundled worlds: ${listWorlds()
          .map((w) => w.name)
          .join(', ')}`;
    throw new WorldError(isPath ? file : `${nameOrPath}.json`, '', `cannot read world file${known}`, {
      cause: error,
    });
  }
  const label = isPath ? file : basename(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new WorldError(label, '', `not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const world = parseWorld(json, label);
  if (!isPath && world.name !== nameOrPath)
    throw new WorldError(label, 'name', `is "${world.name}", expected "${nameOrPath}" (the file name)`);
  return world;
}

export interface WorldSummary {
  name: string;
  environment: World['environment'];
  heldOut: boolean;
  description: string;
}

/**
 * The bundled worlds, by name; held-out worlds are marked so recorders can skip them. The test
 * worlds are not among them: `listWorlds(TEST_WORLDS_DIR)` lists those.
 */
export function listWorlds(dir: string = WORLDS_DIR): WorldSummary[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const w = loadWorld(join(dir, f));
      return { name: w.name, environment: w.environment, heldOut: w.heldOut, description: w.description };
    });
}

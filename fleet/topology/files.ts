// The file-system adapter: reads network and measurement files and writes pictures. All the
// parsing and validation is in the pure modules; this only turns paths into text and back.

import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';

import { MeasurementsError, NetworkFileError } from './errors.ts';
import { parseGml } from './gml.ts';
import type { GmlNetwork } from './gml.ts';
import { parseMeasurements } from './measurements.ts';
import type { Measurements } from './measurements.ts';

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new NetworkFileError(path, 'cannot be read', { cause: error });
  }
}

export async function readNetworkFile(path: string): Promise<GmlNetwork> {
  return parseGml(await readText(path), basename(path));
}

export async function readMeasurementsFile(path: string): Promise<Measurements> {
  const text = await readText(path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MeasurementsError(`${basename(path)}: not valid JSON`, { cause: error });
  }
  return parseMeasurements(value, basename(path));
}

export async function writeTextFile(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text, 'utf8');
  } catch (error) {
    throw new NetworkFileError(path, 'cannot be written', { cause: error });
  }
}

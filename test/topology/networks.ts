// Test helper: the paper's networks live in the shared folder next to the project.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import {
  connectivityFromNetwork,
  fleetFromConnectivity,
  parseGml,
  PROFILES,
} from '../../fleet/topology/index.ts';
import type { Fleet, ProfileName } from '../../fleet/topology/index.ts';

export const NETWORKS_DIR = resolve(process.cwd(), '../shared/networks');
export const NETWORK_NAMES = ['gaia', 'amazon_us', 'geantdistance', 'exodus', 'ebone'] as const;
export type NetworkName = (typeof NETWORK_NAMES)[number];

export function networkPath(name: NetworkName): string {
  const path = resolve(NETWORKS_DIR, `${name}.gml`);
  if (!existsSync(path)) {
    throw new Error(
      `network file ${path} is missing: the tests read the paper's networks from ../shared/networks ` +
        'relative to the project root (run vitest from the project root)',
    );
  }
  return path;
}

export function networkText(name: NetworkName): string {
  return readFileSync(networkPath(name), 'utf8');
}

export function paperFleet(name: NetworkName, profile: ProfileName = 'femnist'): Fleet {
  const { modelBits, computeMs } = PROFILES[profile];
  return fleetFromConnectivity(connectivityFromNetwork(parseGml(networkText(name), `${name}.gml`)), {
    modelBits,
    computeMs,
    uplinkBps: 1e10,
    downlinkBps: 1e10,
  });
}

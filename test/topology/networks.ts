// Test helper: the paper's networks as the planner ships them (fleet/topology/networks).

import { readFileSync } from 'node:fs';

import {
  connectivityFromNetwork,
  fleetFromConnectivity,
  PAPER_NETWORKS,
  paperNetworkPath,
  parseGml,
  PROFILES,
} from '../../fleet/topology/index.ts';
import type { Fleet, PaperNetwork, ProfileName } from '../../fleet/topology/index.ts';

export const NETWORK_NAMES = PAPER_NETWORKS;
export type NetworkName = PaperNetwork;
export const networkPath = paperNetworkPath;

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

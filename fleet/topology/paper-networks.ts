// The paper's five underlays, shipped beside the planner (networks/*.gml) so the command line,
// the benchmark and the tests plan them from a plain clone, whatever the working directory.
import { fileURLToPath } from 'node:url';

/** Gaia (11 silos), Amazon US (22), Géant (40), Exodus (79), Ebone (87). */
export const PAPER_NETWORKS = ['gaia', 'amazon_us', 'geantdistance', 'exodus', 'ebone'] as const;
export type PaperNetwork = (typeof PAPER_NETWORKS)[number];

/** Path of one of the paper's GML files inside this package. */
export function paperNetworkPath(name: PaperNetwork): string {
  return fileURLToPath(new URL(`./networks/${name}.gml`, import.meta.url));
}

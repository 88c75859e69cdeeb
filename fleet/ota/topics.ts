// Where OTA lives under the fleet's topics (README.md here). Fleet and robot names follow the
// exchange's rule (1-64 letters, digits, '-', '_'), so no name can carry a wildcard or a level;
// artifacts are addressed by their sha256, never by a version string (a '+' in a semantic
// version's build metadata would be a wildcard).

/** The fleet's current release manifest (retained, QoS 1). */
export const releaseTopic = (fleet: string): string => `fleet/${fleet}/ota/release`;

/** Chunk `index` of the artifact with this sha256 (retained, QoS 1). */
export const artifactChunkTopic = (fleet: string, sha256: string, index: number): string =>
  `fleet/${fleet}/ota/artifact/${sha256}/${index}`;
export const artifactChunkFilter = (fleet: string, sha256: string): string =>
  `fleet/${fleet}/ota/artifact/${sha256}/+`;

/** A robot's OTA state (retained, QoS 1): what telemetry shows. */
export const statusTopic = (fleet: string, robot: string): string => `fleet/${fleet}/ota/status/${robot}`;
export const statusFilter = (fleet: string): string => `fleet/${fleet}/ota/status/+`;

/** The chunk index of an artifact topic of `sha256`, or undefined. */
export function chunkIndexOf(fleet: string, sha256: string, topic: string): number | undefined {
  const prefix = `fleet/${fleet}/ota/artifact/${sha256}/`;
  if (!topic.startsWith(prefix)) return undefined;
  const rest = topic.slice(prefix.length);
  return /^(0|[1-9][0-9]{0,5})$/.test(rest) ? Number(rest) : undefined;
}

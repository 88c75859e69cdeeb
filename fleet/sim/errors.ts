// One class per failure kind of a fleet simulation.

/** Options that cannot describe a simulation (too few silos, a network too small, a bad scale). */
export class FleetSimConfigError extends Error {
  override readonly name = 'FleetSimConfigError';
}

/** A silo process that exited before the fleet finished; its last log lines are in the message. */
export class SiloProcessError extends Error {
  override readonly name = 'SiloProcessError';
  constructor(
    readonly silo: string,
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly logTail: string,
    options?: ErrorOptions,
  ) {
    super(
      `silo ${silo} exited (${signal === null ? `code ${exitCode}` : signal}) before the fleet finished:\n${logTail}`,
      options,
    );
  }
}

/** The run was stopped (SIGINT, SIGTERM, or the caller's signal); its silos were killed. */
export class FleetSimAbortedError extends Error {
  override readonly name = 'FleetSimAbortedError';
}

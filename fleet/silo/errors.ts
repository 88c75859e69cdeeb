// One class per failure kind of a silo. A plan file or command line that cannot work stops the
// silo before it trains; a peer that is late or sends a bad update is logged and the round
// carries on (the exchange refuses bad updates before the silo sees them).

/** A plan file or silo list that cannot describe a fleet: the message names what is wrong. */
export class FleetPlanError extends Error {
  override readonly name = 'FleetPlanError';
  constructor(
    /** The plan file (or "--silos") the error is about. */
    readonly source: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${source}: ${detail}`, options);
  }
}

/** Models that cannot be mixed (different tensors or sizes): a programming mistake, never a peer's. */
export class MixingError extends Error {
  override readonly name = 'MixingError';
}

/** A silo checkpoint that cannot be read or does not belong to this silo; the running model is untouched. */
export class SiloCheckpointError extends Error {
  override readonly name = 'SiloCheckpointError';
  constructor(
    readonly file: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${detail}`, options);
  }
}

/** Options given to a silo that cannot work (unknown id, bad local step count, bad timeout). */
export class SiloConfigError extends Error {
  override readonly name = 'SiloConfigError';
}

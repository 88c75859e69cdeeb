// One class per failure kind, so that callers can tell a bad file from a bad measurement
// from an impossible plan without parsing messages; the data is in the message, the original
// error (if any) in `cause`.

export class GmlParseError extends Error {
  override readonly name = 'GmlParseError';
  readonly line: number;

  constructor(source: string, line: number, detail: string, options?: ErrorOptions) {
    super(`${source} line ${line}: ${detail}`, options);
    this.line = line;
  }
}

export class MeasurementsError extends Error {
  override readonly name = 'MeasurementsError';
}

export class DisconnectedNetworkError extends Error {
  override readonly name = 'DisconnectedNetworkError';
  readonly from: string;
  readonly to: string;

  constructor(from: string, to: string) {
    super(`silo "${to}" cannot be reached from silo "${from}": the underlay is not connected`);
    this.from = from;
    this.to = to;
  }
}

export class TopologyInputError extends Error {
  override readonly name = 'TopologyInputError';
}

export class NetworkFileError extends Error {
  override readonly name = 'NetworkFileError';
  readonly path: string;

  constructor(path: string, detail: string, options?: ErrorOptions) {
    super(`${path}: ${detail}`, options);
    this.path = path;
  }
}

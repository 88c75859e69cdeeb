// One class per failure kind of the weight exchange. A bad update from a peer is never thrown at
// the silo: it becomes a Rejection with a logged reason. These classes are for what a caller
// must hear about: a malformed payload handed to the codec, a bad key or trusted-keys file, a
// broker that cannot be reached, a local update that cannot be sent.

/** Bytes that are not a well-formed update payload (the reason names the first problem). */
export class PayloadFormatError extends Error {
  override readonly name = 'PayloadFormatError';
}

/** A key file or trusted-keys file that is missing, malformed or holds the wrong kind of key. */
export class TrustedKeysError extends Error {
  override readonly name = 'TrustedKeysError';
  constructor(
    /** The file (or the silo entry) the error is about. */
    readonly source: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${source}: ${detail}`, options);
  }
}

/** Options given to the exchange that cannot work (a fleet or silo name unusable in a topic, a key mismatch). */
export class ExchangeConfigError extends Error {
  override readonly name = 'ExchangeConfigError';
}

/** The broker could not be reached or refused the connection. */
export class BrokerConnectError extends Error {
  override readonly name = 'BrokerConnectError';
  constructor(
    readonly url: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`cannot connect to MQTT broker ${url}: ${detail}`, options);
  }
}

/** A local publish that the broker did not acknowledge, or an exchange used after close(). */
export class PublishError extends Error {
  override readonly name = 'PublishError';
}

// The byte transport the bridge runs over: the serial port on the robot, a pty in tests.

export interface TransportHandlers {
  data(chunk: Uint8Array): void;
  /** The line is gone (unplugged, I/O error, closed by the peer). Called at most once per open. */
  closed(error: Error): void;
}

export interface ByteTransport {
  /** Human-readable name for logs, e.g. the device path. */
  readonly description: string;
  /** Rejects (SerialLinkError) when the device cannot be opened. */
  open(handlers: TransportHandlers): Promise<void>;
  /** Queues bytes; `written` runs once they are handed to the OS (or failed). */
  write(bytes: Uint8Array, written?: (error: Error | undefined) => void): void;
  close(): Promise<void>;
}

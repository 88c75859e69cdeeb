// The serialport adapter: a thin ByteTransport over a device path. Any error while open is a
// link failure: the port is closed and the bridge reconnects by itself.
import { writeSync } from 'node:fs';

import { SerialPort } from 'serialport';

import { SerialLinkError } from './errors.ts';
import type { ByteTransport, TransportHandlers } from './transport.ts';

export type Parity = 'none' | 'even' | 'odd';

export interface SerialOptions {
  readonly path: string;
  readonly baudRate: number;
  readonly parity: Parity;
}

export class SerialTransport implements ByteTransport {
  readonly #o: SerialOptions;
  #port: SerialPort | undefined;
  /** Writes waiting in the stream; the fast path waits until they are out. */
  #queued = 0;
  /** Marks the open port's end as ours, so close() is not reported as a link failure. */
  #silence: () => void = () => undefined;

  constructor(options: SerialOptions) {
    this.#o = options;
  }

  get description(): string {
    return `${this.#o.path} at ${this.#o.baudRate} baud, parity ${this.#o.parity}`;
  }

  open(handlers: TransportHandlers): Promise<void> {
    const { path, baudRate, parity } = this.#o;
    const port = new SerialPort({ path, baudRate, parity, dataBits: 8, stopBits: 1, autoOpen: false });
    let reported = false;
    const fail = (error: Error): void => {
      if (reported) return;
      reported = true;
      if (this.#port === port) this.#port = undefined;
      handlers.closed(error);
      if (port.isOpen) port.close(() => undefined);
    };
    return new Promise((resolve, reject) => {
      port.open((error) => {
        if (error) {
          reject(new SerialLinkError(path, `cannot open: ${error.message}`, { cause: error }));
          return;
        }
        this.#port = port;
        this.#silence = () => {
          reported = true;
        };
        port.on('data', (chunk: Buffer) => handlers.data(chunk));
        // Our own write failures arrive here already wrapped (see write()).
        port.on('error', (e: Error) =>
          fail(
            e instanceof SerialLinkError
              ? e
              : new SerialLinkError(path, `I/O error: ${e.message}`, { cause: e }),
          ),
        );
        port.on('close', (e: Error | null) =>
          fail(
            new SerialLinkError(path, e ? `disconnected: ${e.message}` : 'closed', { cause: e ?? undefined }),
          ),
        );
        resolve();
      });
    });
  }

  write(bytes: Uint8Array, written?: (error: Error | undefined) => void): void {
    const port = this.#port;
    if (port === undefined) {
      written?.(new SerialLinkError(this.#o.path, 'write while not open'));
      return;
    }
    let rest = bytes;
    // Fast path: a frame is a few dozen bytes and the tty buffer is nearly always free, so a
    // non-blocking write(2) on the port's descriptor puts it on the line without the stream's
    // thread-pool round trip (that round trip was most of the /cmd_vel-to-wire latency).
    // Only while nothing is queued in the stream, so frames never overtake each other.
    const fd = (port.port as { fd?: unknown } | undefined)?.fd;
    if (this.#queued === 0 && typeof fd === 'number') {
      try {
        const n = writeSync(fd, rest);
        if (n === rest.length) {
          written?.(undefined);
          return;
        }
        rest = rest.subarray(n);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') {
          const e = new SerialLinkError(this.#o.path, `write failed: ${(error as Error).message}`, {
            cause: error,
          });
          port.destroy(e);
          written?.(e);
          return;
        }
      }
    }
    this.#queued++;
    port.write(Buffer.from(rest.buffer, rest.byteOffset, rest.byteLength), (error) => {
      this.#queued--;
      if (error)
        port.destroy(new SerialLinkError(this.#o.path, `write failed: ${error.message}`, { cause: error }));
      written?.(error ?? undefined);
    });
  }

  close(): Promise<void> {
    const port = this.#port;
    this.#port = undefined;
    this.#silence();
    if (port === undefined || !port.isOpen) return Promise.resolve();
    return new Promise((resolve) => {
      // Let queued bytes (the e-stop) reach the line before closing.
      port.drain(() => port.close(() => resolve()));
    });
  }
}

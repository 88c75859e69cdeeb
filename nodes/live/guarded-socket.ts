// The socket FoxgloveServer writes to, standing between it and one viewer's real `ws` socket.
// FoxgloveServer sends every message to every subscribed client in one loop with no notion of
// a slow reader; this adapter is where a viewer that cannot keep up loses messages (instead of
// the robot buffering megabytes of camera frames for it), and where a failing socket is
// contained to its own client and reported once.
import type { IWebSocket } from '@foxglove/ws-protocol';
import { WebSocket } from 'ws';

export interface SocketCounters {
  sent: number;
  backpressured: number;
  failed: number;
}

type Handler = ((event: unknown) => void) | null | undefined;

export class GuardedSocket implements IWebSocket {
  readonly name: string;
  readonly #ws: WebSocket;
  readonly #maxBufferedBytes: number;
  readonly #counters: SocketCounters;
  readonly #log: (line: string) => void;
  // ws types each handler's event; FoxgloveServer's interface does not, so keep what it set.
  readonly #handlers: Record<'onerror' | 'onopen' | 'onclose' | 'onmessage', Handler> = {
    onerror: null,
    onopen: null,
    onclose: null,
    onmessage: null,
  };
  #reported = false;

  constructor(
    ws: WebSocket,
    name: string,
    options: { maxBufferedBytes: number; counters: SocketCounters; log: (line: string) => void },
  ) {
    this.#ws = ws;
    this.name = name;
    this.#maxBufferedBytes = options.maxBufferedBytes;
    this.#counters = options.counters;
    this.#log = options.log;
    // An unhandled 'error' on a ws socket would crash the process; a viewer's failure is its own.
    ws.on('error', (error) => this.fail(error));
  }

  get binaryType(): string {
    return this.#ws.binaryType;
  }
  set binaryType(value: string) {
    if (value === 'arraybuffer' || value === 'nodebuffer' || value === 'fragments')
      this.#ws.binaryType = value;
  }
  get protocol(): string {
    return this.#ws.protocol;
  }
  get onerror(): Handler {
    return this.#handlers.onerror;
  }
  set onerror(fn: Handler) {
    this.#handlers.onerror = fn;
    this.#ws.onerror = fn ?? null;
  }
  get onopen(): Handler {
    return this.#handlers.onopen;
  }
  set onopen(fn: Handler) {
    this.#handlers.onopen = fn;
    this.#ws.onopen = fn ?? null;
  }
  get onclose(): Handler {
    return this.#handlers.onclose;
  }
  set onclose(fn: Handler) {
    this.#handlers.onclose = fn;
    this.#ws.onclose = fn ?? null;
  }
  get onmessage(): Handler {
    return this.#handlers.onmessage;
  }
  set onmessage(fn: Handler) {
    this.#handlers.onmessage = fn;
    this.#ws.onmessage = fn ?? null;
  }

  /** True while this viewer has more unsent bytes queued than it is allowed. */
  get congested(): boolean {
    return this.#ws.bufferedAmount > this.#maxBufferedBytes;
  }

  close(): void {
    this.#ws.close();
  }

  // Deliberately one parameter: FoxgloveServer then sends a message's header and payload as
  // one buffer rather than two fragments, so a message is dropped whole or sent whole.
  send(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return; // closing: the close handler cleans up
    // Text frames are the protocol's control messages (advertise, status) and are small;
    // only binary message data is ever dropped.
    const messageData = typeof data !== 'string';
    if (messageData && this.congested) {
      this.#counters.backpressured += 1;
      return;
    }
    try {
      this.#ws.send(data, (error) => {
        if (error) this.fail(error);
      });
      if (messageData) this.#counters.sent += 1;
    } catch (error) {
      this.fail(error);
    }
  }

  /** Counts every failure and logs the first: a dead viewer must not flood the robot's log. */
  fail(error: unknown): void {
    this.#counters.failed += 1;
    if (this.#reported) return;
    this.#reported = true;
    const reason = error instanceof Error ? error.message : String(error);
    this.#log(`viewer ${this.name}: send failed (${reason}); later failures are counted, not logged`);
  }
}

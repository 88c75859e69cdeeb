// Runs a BridgeCore over a ByteTransport on an injected clock: opens the port (and reopens
// it after a failure), feeds received bytes and time to the core, writes what it emits, and
// wakes the core at the deadline it asks for.
import type { Cancel, Clock } from '../nodes/runtime/clock.ts';
import type { BridgeConfig } from './core/config.ts';
import type { BridgeOutput, LinkStats } from './core/bridge.ts';
import { BridgeCore } from './core/bridge.ts';
import type { ByteTransport } from './transport.ts';

export interface BridgeLinkOptions {
  readonly config: BridgeConfig;
  readonly transport: ByteTransport;
  readonly clock: Clock;
  /** Everything the core emits except writes, which the link performs itself. */
  readonly onOutput: (out: Exclude<BridgeOutput, { kind: 'write' }>) => void;
  readonly reconnectIntervalMs?: number;
  /** Called when a write's bytes were handed to the OS: the latency benchmark uses it. */
  readonly onWritten?: (message: Extract<BridgeOutput, { kind: 'write' }>['message']) => void;
}

export class BridgeLink {
  readonly #o: BridgeLinkOptions;
  readonly #core: BridgeCore;
  readonly #reconnectMs: number;
  #timer: Cancel | undefined;
  #timerAt = Infinity;
  #open = false;
  #closing = false;
  #lastOpenError = '';

  constructor(options: BridgeLinkOptions) {
    this.#o = options;
    this.#reconnectMs = options.reconnectIntervalMs ?? 500;
    this.#core = new BridgeCore(options.config, (out) => this.#output(out));
  }

  get state(): BridgeCore['state'] {
    return this.#core.state;
  }

  stats(): LinkStats {
    return this.#core.stats();
  }

  start(): void {
    void this.#connect();
  }

  /** A /cmd_vel: goes straight to the core and, when due, straight to the port. */
  command(linear: number, angular: number): void {
    this.#core.command(this.#o.clock.now(), linear, angular);
    this.#schedule();
  }

  /** E-stops the MCU (when connected), lets the bytes out and closes the port. */
  async stop(reason: string): Promise<void> {
    this.#closing = true;
    this.#core.stop(this.#o.clock.now(), reason);
    this.#timer?.();
    this.#timer = undefined;
    await this.#o.transport.close();
  }

  async #connect(): Promise<void> {
    if (this.#closing) return;
    try {
      await this.#o.transport.open({
        data: (chunk) => {
          this.#core.receive(this.#o.clock.now(), chunk);
          this.#schedule();
        },
        closed: (error) => this.#lost(error),
      });
    } catch (error) {
      // An absent device is the normal state of an unplugged robot: say it once, keep trying.
      const text = error instanceof Error ? error.message : String(error);
      if (text !== this.#lastOpenError)
        this.#o.onOutput({ kind: 'warning', text: `${text}; retrying every ${this.#reconnectMs} ms` });
      this.#lastOpenError = text;
      this.#o.clock.after(this.#reconnectMs, () => void this.#connect());
      return;
    }
    if (this.#closing) {
      await this.#o.transport.close();
      return;
    }
    this.#lastOpenError = '';
    this.#open = true;
    this.#core.connected(this.#o.clock.now());
    this.#schedule();
  }

  #lost(error: Error): void {
    if (!this.#open) return;
    this.#open = false;
    this.#core.disconnected(this.#o.clock.now(), error.message);
    this.#timer?.();
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (!this.#closing) this.#o.clock.after(this.#reconnectMs, () => void this.#connect());
  }

  #output(out: BridgeOutput): void {
    if (out.kind !== 'write') {
      this.#o.onOutput(out);
      return;
    }
    if (!this.#open) return;
    const onWritten = this.#o.onWritten;
    this.#o.transport.write(
      out.bytes,
      onWritten === undefined ? undefined : (e) => e === undefined && onWritten(out.message),
    );
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#core.tick(this.#o.clock.now());
    this.#schedule();
  }

  #schedule(): void {
    const at = this.#core.nextDeadline();
    if (at === this.#timerAt) return;
    this.#timer?.();
    this.#timer = undefined;
    this.#timerAt = at;
    if (at === Infinity) return;
    this.#timer = this.#o.clock.after(Math.max(0, at - this.#o.clock.now()), () => this.#tick());
  }
}

// The bridge's decisions, without I/O: handshake, command rate, heartbeats, link loss,
// odometry and link statistics, as a function of events and timestamps. The runner
// (../link.ts) feeds it bytes and time and carries out what it emits.
import type { FrameError } from '../errors.ts';
import { encodeFrame, FrameDecoder } from '../protocol/frame.ts';
import type { Message } from '../protocol/messages.ts';
import { AckResult, MCU_STATE_NAMES, McuState, MessageType } from '../protocol/messages.ts';
import type { BridgeConfig } from './config.ts';
import type { OdometryEstimate, WheelCommand } from './kinematics.ts';
import { OdometryIntegrator, wheelCommand } from './kinematics.ts';

/** `stopped` is final: after stop() the core sends nothing but the e-stop it sent then. */
export type BridgeState = 'disconnected' | 'handshaking' | 'running' | 'stopped';

export interface McuStatus {
  readonly state: string;
  readonly faults: number;
  readonly rxCrcErrors: number;
  readonly rxFrames: number;
}

export type BridgeOutput =
  | { readonly kind: 'write'; readonly bytes: Uint8Array; readonly message: Message }
  | { readonly kind: 'state'; readonly state: BridgeState; readonly reason: string }
  | { readonly kind: 'warning'; readonly text: string }
  | { readonly kind: 'rejected'; readonly error: FrameError }
  | { readonly kind: 'odometry'; readonly atMs: number; readonly estimate: OdometryEstimate }
  | { readonly kind: 'battery'; readonly atMs: number; readonly volts: number }
  | { readonly kind: 'mcu-status'; readonly atMs: number; readonly status: McuStatus };

export interface LinkStats {
  readonly state: BridgeState;
  readonly reason: string;
  readonly framesRx: number;
  readonly framesTx: number;
  readonly crcErrors: number;
  readonly otherErrors: number;
  readonly resyncs: number;
  /** Frames missing by the MCU's sequence numbers. */
  readonly lostFrames: number;
  readonly handshakes: number;
  readonly linkLosses: number;
  readonly rttLastMs: number | undefined;
  readonly rttMaxMs: number | undefined;
  readonly firmware: string | undefined;
  readonly mcu: McuStatus | undefined;
}

const ZERO: WheelCommand = { leftMradS: 0, rightMradS: 0 };

export class BridgeCore {
  readonly #c: BridgeConfig;
  readonly #emit: (out: BridgeOutput) => void;
  readonly #decoder = new FrameDecoder();
  #state: BridgeState = 'disconnected';
  #reason = 'not connected yet';
  #seq = 0;
  #nonce = 0;
  #nonceCounter = 0;
  #odometry: OdometryIntegrator | undefined;
  #target: WheelCommand = ZERO;
  #targetAt = -Infinity;
  #timedOut = true;
  #pending = false;
  #lastCmdAt = -Infinity;
  #lastHeartbeatAt = -Infinity;
  #lastRxAt = -Infinity;
  #nextHelloAt = 0;
  #rxSeq: number | undefined;
  readonly #sentAt = new Float64Array(256).fill(Number.NaN);
  #s = { framesTx: 0, lostFrames: 0, handshakes: 0, linkLosses: 0 };
  #rttLast: number | undefined;
  #rttMax: number | undefined;
  #firmware: string | undefined;
  #mcu: McuStatus | undefined;

  constructor(config: BridgeConfig, emit: (out: BridgeOutput) => void) {
    this.#c = config;
    this.#emit = emit;
  }

  get state(): BridgeState {
    return this.#state;
  }

  /** The port is open: start a session. Nothing moves before the MCU answers the HELLO. */
  connected(now: number): void {
    if (this.#state === 'stopped') return;
    this.#decoder.reset();
    this.#rxSeq = undefined;
    this.#enter('handshaking', 'port open, waiting for the firmware to answer HELLO');
    this.#hello(now);
  }

  disconnected(_now: number, why: string): void {
    if (this.#state === 'stopped' || this.#state === 'disconnected') return;
    if (this.#state === 'running') this.#s.linkLosses++;
    this.#enter('disconnected', `${why}; stopped commanding, reconnecting`);
  }

  receive(now: number, chunk: Uint8Array): void {
    for (const byte of chunk) {
      const result = this.#decoder.push(byte);
      if (result === undefined) continue;
      if (!result.ok) {
        this.#emit({ kind: 'rejected', error: result.error });
        continue;
      }
      const { seq, message } = result.frame;
      if (this.#rxSeq !== undefined) this.#s.lostFrames += (seq - this.#rxSeq - 1) & 0xff;
      this.#rxSeq = seq;
      this.#lastRxAt = now;
      this.#handle(now, message);
    }
  }

  /** A /cmd_vel. Non-finite values are refused and turn into a stop, with the reason said. */
  command(now: number, linear: number, angular: number): void {
    if (!Number.isFinite(linear) || !Number.isFinite(angular)) {
      this.#emit({
        kind: 'warning',
        text: `cmd_vel refused (linear.x ${linear}, angular.z ${angular}): stopping`,
      });
      this.#setTarget(now, ZERO);
    } else this.#setTarget(now, wheelCommand(linear, angular, this.#c));
    this.#timedOut = false;
    if (this.#state !== 'running') return;
    if (now - this.#lastCmdAt >= this.#c.minCommandIntervalMs) this.#sendCommand(now);
    else this.#pending = true;
  }

  tick(now: number): void {
    switch (this.#state) {
      case 'disconnected':
      case 'stopped':
        return;
      case 'handshaking':
        if (now >= this.#nextHelloAt) this.#hello(now);
        return;
      case 'running':
        break;
    }
    if (now - this.#lastRxAt > this.#c.linkTimeoutMs) {
      this.#s.linkLosses++;
      this.#enter(
        'handshaking',
        `no valid frame from the MCU for ${Math.round(now - this.#lastRxAt)} ms; stopped commanding, handshaking again`,
      );
      this.#hello(now);
      return;
    }
    if (!this.#timedOut && now - this.#targetAt > this.#c.cmdVelTimeoutMs) {
      this.#timedOut = true;
      if (this.#target !== ZERO)
        this.#emit({
          kind: 'warning',
          text: `no cmd_vel for ${this.#c.cmdVelTimeoutMs} ms: commanding zero`,
        });
      this.#target = ZERO;
      this.#sendCommand(now);
    }
    const sinceCmd = now - this.#lastCmdAt;
    if ((this.#pending && sinceCmd >= this.#c.minCommandIntervalMs) || sinceCmd >= this.#c.commandPeriodMs)
      this.#sendCommand(now);
    if (now - this.#lastHeartbeatAt >= this.#c.heartbeatPeriodMs) {
      this.#lastHeartbeatAt = now;
      this.#send(now, { type: 'heartbeat', hostMs: Math.floor(now) >>> 0 });
    }
  }

  /** Stops for good: e-stop to the MCU if connected, then nothing more. */
  stop(now: number, reason: string): void {
    if (this.#state === 'stopped') return;
    if (this.#state !== 'disconnected') this.#send(now, { type: 'estop', reason: 1 });
    this.#enter('stopped', reason);
  }

  /** When tick() next has something to do; the runner sets its timer to this. */
  nextDeadline(): number {
    switch (this.#state) {
      case 'disconnected':
      case 'stopped':
        return Infinity;
      case 'handshaking':
        return this.#nextHelloAt;
      case 'running': {
        let next = Math.min(
          this.#lastCmdAt + this.#c.commandPeriodMs,
          this.#lastHeartbeatAt + this.#c.heartbeatPeriodMs,
          this.#lastRxAt + this.#c.linkTimeoutMs + 1,
        );
        if (this.#pending) next = Math.min(next, this.#lastCmdAt + this.#c.minCommandIntervalMs);
        if (!this.#timedOut) next = Math.min(next, this.#targetAt + this.#c.cmdVelTimeoutMs + 1);
        return next;
      }
    }
  }

  stats(): LinkStats {
    const d = this.#decoder.stats;
    return {
      state: this.#state,
      reason: this.#reason,
      framesRx: d.frames,
      framesTx: this.#s.framesTx,
      crcErrors: d.crcErrors,
      otherErrors: d.otherErrors,
      resyncs: d.resyncs,
      lostFrames: this.#s.lostFrames,
      handshakes: this.#s.handshakes,
      linkLosses: this.#s.linkLosses,
      rttLastMs: this.#rttLast,
      rttMaxMs: this.#rttMax,
      firmware: this.#firmware,
      mcu: this.#mcu,
    };
  }

  #enter(state: BridgeState, reason: string): void {
    this.#state = state;
    this.#reason = reason;
    this.#pending = false;
    this.#emit({ kind: 'state', state, reason });
  }

  #setTarget(now: number, target: WheelCommand): void {
    this.#target = target;
    this.#targetAt = now;
  }

  #hello(now: number): void {
    // Distinct nonces tell a fresh HELLO_ACK from a late answer to an earlier attempt.
    this.#nonce = (Math.imul(++this.#nonceCounter, 0x9e3779b1) ^ Math.floor(now)) >>> 0;
    this.#nextHelloAt = now + this.#c.helloRetryMs;
    this.#send(now, { type: 'hello', nonce: this.#nonce });
  }

  #sendCommand(now: number): void {
    this.#pending = false;
    this.#lastCmdAt = now;
    this.#send(now, { type: 'wheel-cmd', ...this.#target });
  }

  #send(now: number, message: Message): void {
    const seq = this.#seq;
    this.#seq = (seq + 1) & 0xff;
    this.#sentAt[seq] = now;
    this.#s.framesTx++;
    this.#emit({ kind: 'write', bytes: encodeFrame(message, seq), message });
  }

  #handle(now: number, m: Message): void {
    switch (m.type) {
      case 'hello-ack':
        if (this.#state !== 'handshaking' || m.nonce !== this.#nonce) {
          this.#emit({
            kind: 'warning',
            text: `ignored HELLO_ACK with nonce ${m.nonce} (expected ${this.#nonce}, state ${this.#state})`,
          });
          return;
        }
        if (m.ticksPerRev === 0) {
          this.#emit({
            kind: 'warning',
            text: 'firmware reports 0 encoder ticks per revolution; not driving',
          });
          return;
        }
        this.#firmware = `${m.firmwareMajor}.${m.firmwareMinor}`;
        this.#odometry = new OdometryIntegrator(this.#c, m.ticksPerRev);
        this.#s.handshakes++;
        this.#lastHeartbeatAt = now;
        this.#enter('running', `handshake complete: firmware ${this.#firmware}, ${m.ticksPerRev} ticks/rev`);
        // Resume the latest /cmd_vel only if it is still fresh; otherwise command zero.
        if (now - this.#targetAt > this.#c.cmdVelTimeoutMs) this.#target = ZERO;
        this.#sendCommand(now);
        return;
      case 'ack': {
        const sentAt = this.#sentAt[m.seq] ?? Number.NaN;
        if (!Number.isNaN(sentAt)) {
          this.#rttLast = now - sentAt;
          this.#rttMax = Math.max(this.#rttMax ?? 0, this.#rttLast);
          this.#sentAt[m.seq] = Number.NaN;
        }
        if (this.#state !== 'running') return;
        if (m.result === AckResult.notReady) {
          this.#s.linkLosses++;
          this.#enter(
            'handshaking',
            'the MCU has no session (did it reset?); stopped commanding, handshaking again',
          );
          this.#hello(now);
        } else if (m.result === AckResult.estopped && m.ackedType === MessageType.wheelCmd) {
          this.stop(now, 'the MCU is e-stopped and refuses commands');
        }
        return;
      }
      case 'odometry': {
        const estimate = this.#odometry?.update(m.mcuMs, m.leftTicks, m.rightTicks);
        if (estimate !== undefined) this.#emit({ kind: 'odometry', atMs: now, estimate });
        return;
      }
      case 'battery':
        this.#emit({ kind: 'battery', atMs: now, volts: m.millivolts / 1000 });
        return;
      case 'status': {
        const status: McuStatus = {
          state: MCU_STATE_NAMES[m.state] ?? `unknown(${m.state})`,
          faults: m.faults,
          rxCrcErrors: m.rxCrcErrors,
          rxFrames: m.rxFrames,
        };
        if (this.#state === 'running' && m.state === McuState.failsafe && this.#mcu?.state !== 'failsafe')
          this.#emit({
            kind: 'warning',
            text: 'the MCU failsafe tripped (commands arrived too late); the next command restarts it',
          });
        this.#mcu = status;
        this.#emit({ kind: 'mcu-status', atMs: now, status });
        return;
      }
      case 'hello':
      case 'wheel-cmd':
      case 'heartbeat':
      case 'estop':
        this.#emit({
          kind: 'warning',
          text: `ignored a ${m.type} frame: the MCU never sends one (is the line looped back?)`,
        });
        return;
    }
  }
}

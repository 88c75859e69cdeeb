// A motor controller in TypeScript that speaks protocol v1: the far end of the pty in the
// bridge-only tests and the latency benchmark. It answers like the firmware (HELLO_ACK,
// ACKs, refusals before a HELLO) and records every frame it accepted.
import type { Frame, Message } from './protocol/index.ts';
import { AckResult, encodeFrame, FrameDecoder, MessageType } from './protocol/index.ts';

export class SimulatedMcu {
  readonly received: Frame[] = [];
  readonly #decoder = new FrameDecoder();
  readonly #send: (bytes: Uint8Array) => void;
  #seq = 0;
  #session = false;

  constructor(send: (bytes: Uint8Array) => void) {
    this.#send = send;
  }

  get session(): boolean {
    return this.#session;
  }

  /** Forgets the session, as a reset MCU does. */
  reset(): void {
    this.#session = false;
    this.#decoder.reset();
  }

  receive(chunk: Uint8Array): void {
    for (const byte of chunk) {
      const r = this.#decoder.push(byte);
      if (r === undefined || !r.ok) continue;
      this.received.push(r.frame);
      this.#answer(r.frame);
    }
  }

  sendMessage(message: Message): void {
    this.#send(encodeFrame(message, this.#seq));
    this.#seq = (this.#seq + 1) & 0xff;
  }

  #answer({ seq, message: m }: Frame): void {
    const ack = (ackedType: number, result: number): void =>
      this.sendMessage({ type: 'ack', seq, ackedType, result });
    switch (m.type) {
      case 'hello':
        this.#session = true;
        this.sendMessage({
          type: 'hello-ack',
          nonce: m.nonce,
          firmwareMajor: 1,
          firmwareMinor: 0,
          ticksPerRev: 1200,
        });
        return;
      case 'wheel-cmd':
        return ack(MessageType.wheelCmd, this.#session ? AckResult.accepted : AckResult.notReady);
      case 'heartbeat':
        return ack(MessageType.heartbeat, this.#session ? AckResult.accepted : AckResult.notReady);
      case 'estop':
        return ack(MessageType.estop, AckResult.accepted);
      default:
        return;
    }
  }
}

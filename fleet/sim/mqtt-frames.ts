// MQTT control packets out of a byte stream, as much as the link emulation needs: where each
// packet ends, and the topic of a PUBLISH. Pure; bytes arrive in any split (one at a time on a
// slow socket) and come out as whole packets. MQTT 3.1.1 and 5 share this framing.

/** A stream that is not MQTT (a remaining length longer than four bytes). */
export class MqttFramingError extends Error {
  override readonly name = 'MqttFramingError';
}

const PUBLISH = 3;
/** The largest remaining length MQTT can express (four length bytes). */
const MAX_REMAINING = 268_435_455;

export class MqttFrames {
  /** Bytes received and not yet cut into packets, in arrival order. */
  #parts: Uint8Array[] = [];
  #size = 0;

  /** Bytes held until their packet is complete. */
  get pending(): number {
    return this.#size;
  }

  /** Adds bytes; returns every packet they complete, in order. Throws MqttFramingError on a bad length. */
  push(bytes: Uint8Array): Uint8Array[] {
    this.#parts.push(bytes);
    this.#size += bytes.length;
    const packets: Uint8Array[] = [];
    for (;;) {
      // The header is at most five bytes; the parts are joined only once a packet is complete,
      // so a large packet arriving in small pieces is copied once, not once per piece.
      const length = packetLength(this.#prefix(5), 0);
      if (length === undefined || length > this.#size) break;
      const joined = this.#prefix(this.#size);
      packets.push(joined.slice(0, length));
      const rest = joined.subarray(length);
      this.#parts = rest.length > 0 ? [rest] : [];
      this.#size = rest.length;
    }
    return packets;
  }

  /** The first `n` held bytes (fewer when fewer are held). */
  #prefix(n: number): Uint8Array {
    const first = this.#parts[0];
    if (first !== undefined && (first.length >= n || this.#parts.length === 1)) return first.subarray(0, n);
    const out = new Uint8Array(Math.min(n, this.#size));
    let at = 0;
    for (const p of this.#parts) {
      if (at >= out.length) break;
      const take = p.subarray(0, out.length - at);
      out.set(take, at);
      at += take.length;
    }
    if (n >= this.#size) this.#parts = [out];
    return out;
  }
}

/** The whole length of the packet starting at `at`, or undefined while its header is incomplete. */
function packetLength(bytes: Uint8Array, at: number): number | undefined {
  let remaining = 0;
  for (let i = 0; i < 4; i++) {
    const b = bytes[at + 1 + i];
    if (b === undefined) return undefined;
    remaining += (b & 0x7f) * 128 ** i;
    if ((b & 0x80) === 0) return 1 + (i + 1) + remaining;
  }
  throw new MqttFramingError(`remaining length longer than four bytes (over ${MAX_REMAINING})`);
}

/** The topic of a PUBLISH packet, or undefined for any other packet. */
export function publishTopic(packet: Uint8Array): string | undefined {
  if (packet[0] === undefined || packet[0] >> 4 !== PUBLISH) return undefined;
  let i = 1;
  while ((packet[i] ?? 0) & 0x80) i++;
  const start = i + 1;
  const length = ((packet[start] ?? 0) << 8) | (packet[start + 1] ?? 0);
  if (start + 2 + length > packet.length) return undefined;
  return new TextDecoder().decode(packet.subarray(start + 2, start + 2 + length));
}

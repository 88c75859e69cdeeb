// Consistent Overhead Byte Stuffing: the encoded form has no 0x00, so 0x00 can delimit frames
// and a receiver resynchronises at the next delimiter after garbage.

/** Encodes `input` into `out` starting at 0 and returns the encoded length (no delimiter). */
export function cobsEncode(input: Uint8Array, inputLength: number, out: Uint8Array): number {
  let codeIndex = 0;
  let code = 1;
  let o = 1;
  for (let i = 0; i < inputLength; i++) {
    const byte = input[i] as number;
    if (byte === 0) {
      out[codeIndex] = code;
      codeIndex = o++;
      code = 1;
    } else {
      out[o++] = byte;
      code++;
      if (code === 0xff) {
        out[codeIndex] = code;
        codeIndex = o++;
        code = 1;
      }
    }
  }
  out[codeIndex] = code;
  return o;
}

/**
 * Decodes `length` COBS bytes of `input` into `out`; returns the decoded length, or -1 when
 * the input is not valid COBS (a zero byte, or a code that runs past the end).
 */
export function cobsDecode(input: Uint8Array, length: number, out: Uint8Array): number {
  let i = 0;
  let o = 0;
  while (i < length) {
    const code = input[i++] as number;
    if (code === 0 || i + code - 1 > length) return -1;
    for (let k = 1; k < code; k++) {
      const byte = input[i++] as number;
      if (byte === 0) return -1;
      out[o++] = byte;
    }
    // A code below 0xff stands for a zero, except at the very end of the block.
    if (code < 0xff && i < length) out[o++] = 0;
  }
  return o;
}

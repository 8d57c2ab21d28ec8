// The GDB remote serial protocol's framing (gdb manual, "Remote Protocol"): `$data#cs` with a
// two-digit checksum (the sum of the data bytes modulo 256), `+`/`-` acknowledgments, `}`
// escapes (the next byte XOR 0x20), run-length encoding (`X*n` repeats X n-29 more times)
// and a bare 0x03 byte as an interrupt. Pure: bytes in, events and bytes out.

/** The longest packet data accepted or sent (announced as PacketSize). */
export const PACKET_SIZE = 0x4000;

export type PacketEvent =
  | { kind: "packet"; data: string }
  | { kind: "ack" }
  | { kind: "nack" }
  | { kind: "interrupt" }
  /** A packet whose checksum did not match: answered with `-`. */
  | { kind: "bad" }
  /** A packet longer than PACKET_SIZE: dropped, answered with an error. */
  | { kind: "toolong" };

/**
 * Splits a byte stream into events. Data is kept as a latin1 string (one char per byte), so
 * binary `X` payloads survive. Bytes outside a packet other than `+`, `-`, 0x03 and `$` are
 * ignored, as gdb does.
 */
export class PacketDecoder {
  private state: "idle" | "data" | "cs1" | "cs2" | "skip" = "idle";
  private raw: number[] = [];
  private sum = 0;
  private cs = "";

  feed(bytes: Uint8Array): PacketEvent[] {
    const out: PacketEvent[] = [];
    for (const b of bytes) {
      const ev = this.byte(b);
      if (ev) out.push(ev);
    }
    return out;
  }

  private byte(b: number): PacketEvent | null {
    switch (this.state) {
      case "idle":
        if (b === 0x24) this.begin();
        else if (b === 0x2b) return { kind: "ack" };
        else if (b === 0x2d) return { kind: "nack" };
        else if (b === 0x03) return { kind: "interrupt" };
        return null;
      case "skip":
        // An overlong packet is dropped up to the next `$`, which starts a fresh one.
        if (b === 0x24) this.begin();
        return null;
      case "data":
        if (b === 0x24) { this.begin(); return null; } // a `$` inside data: the sender started over
        if (b === 0x23) { this.state = "cs1"; return null; }
        if (this.raw.length >= PACKET_SIZE) { this.state = "skip"; this.raw = []; return { kind: "toolong" }; }
        this.raw.push(b);
        this.sum = (this.sum + b) & 0xff;
        return null;
      case "cs1":
        this.cs = String.fromCharCode(b);
        this.state = "cs2";
        return null;
      case "cs2": {
        this.state = "idle";
        const text = this.cs + String.fromCharCode(b);
        const raw = this.raw;
        this.raw = [];
        if (!/^[0-9a-fA-F]{2}$/.test(text) || parseInt(text, 16) !== this.sum) return { kind: "bad" };
        const data = expand(raw);
        return data === null ? { kind: "bad" } : { kind: "packet", data };
      }
    }
  }

  private begin(): void {
    this.state = "data";
    this.raw = [];
    this.sum = 0;
  }
}

/** Undoes escapes and run-length encoding; null if malformed (or larger than PACKET_SIZE once expanded). */
export function expand(raw: readonly number[]): string | null {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i];
    if (b === 0x7d) {
      if (i + 1 >= raw.length) return null;
      out.push(raw[++i] ^ 0x20);
    } else if (b === 0x2a) {
      // The repeat count is the next byte minus 29; there must be something to repeat.
      if (out.length === 0 || i + 1 >= raw.length) return null;
      const n = raw[++i] - 29;
      if (n < 0 || out.length + n > PACKET_SIZE) return null;
      const last = out[out.length - 1];
      for (let k = 0; k < n; k++) out.push(last);
    } else {
      out.push(b);
    }
    if (out.length > PACKET_SIZE) return null;
  }
  return Buffer.from(out).toString("latin1");
}

/** Frames `data` (a latin1 string) as `$data#cs`, escaping `$`, `#`, `}` and `*`. */
export function frame(data: string): Buffer {
  const bytes: number[] = [0x24];
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i) & 0xff;
    const esc = c === 0x24 || c === 0x23 || c === 0x7d || c === 0x2a;
    const seq = esc ? [0x7d, c ^ 0x20] : [c];
    for (const x of seq) { bytes.push(x); sum = (sum + x) & 0xff; }
  }
  bytes.push(0x23, ...Buffer.from(sum.toString(16).padStart(2, "0"), "latin1"));
  return Buffer.from(bytes);
}

/** Bytes as lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** Hex text as bytes, or null if it is not an even number of hex digits. */
export function fromHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  return Uint8Array.from(Buffer.from(text, "hex"));
}

/** A string's bytes (UTF-8) as hex, for `O` packets and qRcmd. */
export function textToHex(text: string): string {
  return Buffer.from(text, "utf8").toString("hex");
}

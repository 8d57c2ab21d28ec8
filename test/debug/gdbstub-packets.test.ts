// The remote protocol's framing: checksums, acks, escapes, run-length encoding, interrupts, size bounds.
import { describe, it, expect } from "vitest";
import { PacketDecoder, PACKET_SIZE, frame, expand, fromHex } from "../../src/debug/gdbstub/packets.js";

const feed = (text: string | Uint8Array) => new PacketDecoder().feed(typeof text === "string" ? Buffer.from(text, "latin1") : text);

describe("gdbstub packet framing", () => {
  it("a packet with a good checksum is delivered; acks, nacks and 0x03 are events of their own", () => {
    expect(feed("+$qSupported#37-\x03")).toEqual([
      { kind: "ack" }, { kind: "packet", data: "qSupported" }, { kind: "nack" }, { kind: "interrupt" },
    ]);
  });

  it("a bad checksum, or checksum digits that are not hex, is reported as bad", () => {
    expect(feed("$g#00")).toEqual([{ kind: "bad" }]);
    expect(feed("$g#zz")).toEqual([{ kind: "bad" }]);
  });

  it("frame() and the decoder agree, escapes included", () => {
    const data = "X1000,4:$#}*\x00\xff";
    expect(new PacketDecoder().feed(frame(data))).toEqual([{ kind: "packet", data }]);
    expect(frame("OK").toString("latin1")).toBe("$OK#9a");
  });

  it("run-length encoding expands (X*n repeats X n-29 more times), as gdb may send it", () => {
    expect(expand([...Buffer.from("0* ")])).toBe("0000"); // ' ' is 32: three more
    expect(expand([...Buffer.from("*!")])).toBeNull(); // nothing to repeat
    expect(expand([...Buffer.from("a}")])).toBeNull(); // an escape with nothing after it
  });

  it("a packet longer than PacketSize is dropped up to the next $ and reported once", () => {
    const huge = "$" + "m".repeat(PACKET_SIZE + 10) + "#00$?#3f";
    expect(feed(huge)).toEqual([{ kind: "toolong" }, { kind: "packet", data: "?" }]);
  });

  it("a $ inside a packet starts a new one; bytes between packets are ignored", () => {
    expect(feed("$qC$?#3fjunk$g#67")).toEqual([{ kind: "packet", data: "?" }, { kind: "packet", data: "g" }]);
  });

  it("a packet split across reads is put back together", () => {
    const d = new PacketDecoder();
    expect(d.feed(Buffer.from("$q"))).toEqual([]);
    expect(d.feed(Buffer.from("C#b"))).toEqual([]);
    expect(d.feed(Buffer.from("4"))).toEqual([{ kind: "packet", data: "qC" }]);
  });

  it("hex decoding refuses odd lengths and non-hex digits", () => {
    expect(fromHex("0a0B")).toEqual(Uint8Array.from([10, 11]));
    expect(fromHex("abc")).toBeNull();
    expect(fromHex("zz")).toBeNull();
  });
});

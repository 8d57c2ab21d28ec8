// Test helper: a minimal remote-protocol client over a real TCP connection to the stub.
import { connect, type Socket } from "node:net";
import { frame, PacketDecoder } from "../../src/debug/gdbstub/packets.js";

export class Client {
  private readonly decoder = new PacketDecoder();
  private readonly packets: string[] = [];
  private waiting: ((p: string) => void) | null = null;
  nacks = 0;
  /** Text of the `O` packets seen by reply(). */
  console = "";
  closed = false;

  private constructor(readonly sock: Socket) {
    sock.on("data", (d: Buffer) => {
      for (const ev of this.decoder.feed(d)) {
        if (ev.kind === "nack") this.nacks++;
        if (ev.kind !== "packet") continue;
        if (this.waiting) { const w = this.waiting; this.waiting = null; w(ev.data); } else this.packets.push(ev.data);
      }
    });
    sock.on("close", () => { this.closed = true; });
  }

  static open(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const sock = connect(port, "127.0.0.1", () => resolve(new Client(sock)));
      sock.once("error", reject);
    });
  }

  /** The next packet the stub sends. */
  next(): Promise<string> {
    const p = this.packets.shift();
    if (p !== undefined) return Promise.resolve(p);
    return new Promise((res) => { this.waiting = res; });
  }

  /** The next packet that is not console output (`O...`), after those. */
  async reply(): Promise<string> {
    for (;;) {
      const p = await this.next();
      if (!/^O[0-9a-f]+$/.test(p)) return p;
      this.console += Buffer.from(p.slice(1), "hex").toString("utf8");
    }
  }

  raw(bytes: string | Uint8Array): void {
    this.sock.write(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes);
  }

  /** Sends a packet and waits for its reply. */
  ask(data: string): Promise<string> {
    this.sock.write(frame(data));
    return this.reply();
  }

  end(): Promise<void> {
    return new Promise((res) => { if (this.closed) res(); else { this.sock.once("close", () => res()); this.sock.end(); } });
  }
}

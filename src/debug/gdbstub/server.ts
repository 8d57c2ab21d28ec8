// The stub's TCP server: one gdb at a time. The machine runs in short pieces between which
// the event loop reads the socket, so a 0x03 stops a `c` and a vanished client is noticed.
// A client that vanishes leaves the machine stopped where it was; a new one can attach.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { DebugError, type Engine, type Stop } from "../engine.js";
import type { ReverseRun } from "../reverse.js";
import { frame, PacketDecoder, textToHex } from "./packets.js";
import { GdbTarget, type Answer } from "./target.js";
import type { MonitorExtension, MonitorJob } from "./monitor.js";

/** vCPU runs per piece of a running machine (as the REPL's front end uses). */
const RUNS_PER_PIECE = 200;
/** Text per `O` packet (hex doubles it). */
const O_CHUNK = 2048;
/** A client that sends `-` for the same reply more than this is not retransmitted to again. */
const MAX_RETRANSMITS = 8;
/** Connections waiting for the client to go. */
const MAX_QUEUED = 4;
/** Packets kept while the machine runs. */
const MAX_PENDING = 64;
/**
 * Host milliseconds between progress lines of a long monitor command: gdb waits 2 s
 * (remotetimeout) for each packet of the answer, and says "Ignoring packet error" after that.
 */
const PROGRESS_MS = 1000;

export interface GdbServerOptions {
  host: string;
  port: number;
  /** Stopped until gdb attaches (qemu -S); otherwise the machine runs until then. */
  wait: boolean;
  /** Notes for the user (listening, attached, detached). */
  log?: (line: string) => void;
  /** A monitor command of the caller's (`monitor scenario`). */
  monitor?: MonitorExtension;
}

export class GdbServer {
  readonly target: GdbTarget;
  private server: Server | null = null;
  private client: Socket | null = null;
  private decoder = new PacketDecoder();
  private acks = true;
  private lastSent: Buffer | null = null;
  private retransmits = 0;
  /** A run in progress: who started it (a client's c/s, or the machine running unattended). */
  private running: { forClient: boolean; interrupted: boolean } | null = null;
  private pending: string[] = [];
  private queued: Socket[] = [];
  private closed!: Promise<void>;
  private resolveClosed!: () => void;

  constructor(readonly engine: Engine, private readonly o: GdbServerOptions) {
    this.target = new GdbTarget(engine, o.monitor);
    this.closed = new Promise((res) => { this.resolveClosed = res; });
  }

  /** Starts listening; resolves to the port (useful with port 0). */
  listen(): Promise<number> {
    const server = createServer((sock) => this.accept(sock));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.o.port, this.o.host, () => {
        const port = (server.address() as AddressInfo).port;
        this.o.log?.(`gdbstub: listening on ${this.o.host}:${port}`);
        if (!this.o.wait) void this.drive({ forClient: false, interrupted: false });
        resolve(port);
      });
    });
  }

  /** Resolves when the session ended (`k`, or close()). */
  done(): Promise<void> { return this.closed; }

  close(): void {
    if (this.running) this.engine.interruptRequested = true;
    this.client?.destroy();
    for (const s of this.queued) s.destroy();
    this.queued = [];
    this.server?.close();
    this.server = null;
    this.resolveClosed();
  }

  private accept(sock: Socket): void {
    if (this.client) {
      // One client at a time: the next waits (its bytes kept) until this one goes.
      if (this.queued.length >= MAX_QUEUED) { sock.destroy(); return; }
      sock.pause();
      sock.on("error", () => { /* closed while waiting */ });
      this.queued.push(sock);
      return;
    }
    this.client = sock;
    this.decoder = new PacketDecoder();
    this.acks = true;
    this.lastSent = null;
    this.pending = [];
    this.target.reset();
    sock.setNoDelay(true);
    this.o.log?.(`gdbstub: gdb attached from ${sock.remoteAddress}:${sock.remotePort}`);
    // As qemu: attaching stops a machine that runs unattended.
    if (this.running && !this.running.forClient) this.engine.interruptRequested = true;
    sock.on("data", (d: Buffer) => this.receive(sock, d));
    sock.on("error", () => { /* a reset connection: the close handler cleans up */ });
    sock.on("close", () => this.vanished(sock));
  }

  private vanished(sock: Socket): void {
    if (this.client !== sock) return;
    this.client = null;
    // A run the client started stops where it is; the state stays for the next client.
    if (this.running?.forClient) { this.running.interrupted = true; this.engine.interruptRequested = true; }
    this.o.log?.("gdbstub: gdb went away; the machine is stopped");
    this.next();
  }

  /** Attaches the next waiting client, if one is still there. */
  private next(): void {
    for (let s = this.queued.shift(); s; s = this.queued.shift()) {
      if (s.destroyed) continue;
      this.accept(s);
      s.resume();
      return;
    }
  }

  private send(sock: Socket, data: string): void {
    const f = frame(data);
    this.lastSent = f;
    this.retransmits = 0;
    sock.write(f);
  }

  private output(sock: Socket, text: string): void {
    for (let i = 0; i < text.length; i += O_CHUNK) this.send(sock, "O" + textToHex(text.slice(i, i + O_CHUNK)));
  }

  private receive(sock: Socket, d: Buffer): void {
    if (this.client !== sock) return;
    for (const ev of this.decoder.feed(d)) {
      if (ev.kind === "interrupt") { if (this.running?.forClient) this.engine.interruptRequested = true; continue; }
      if (ev.kind === "ack") continue;
      if (ev.kind === "nack") {
        if (this.acks && this.lastSent && this.retransmits++ < MAX_RETRANSMITS) sock.write(this.lastSent);
        continue;
      }
      if (ev.kind === "bad") { if (this.acks) sock.write("-"); continue; }
      if (this.acks) sock.write("+");
      if (ev.kind === "toolong") { this.send(sock, "E22"); continue; }
      // While the machine runs (until an attach stops it), packets wait; a flood of them is dropped.
      if (this.running) { if (this.pending.length < MAX_PENDING) this.pending.push(ev.data); continue; }
      this.answer(sock, ev.data, this.handle(ev.data));
      if (this.client !== sock) return;
    }
  }

  /** Answers the packets that came while the machine ran, until one runs it again. */
  private flush(): void {
    while (this.client && !this.running && this.pending.length > 0) {
      const p = this.pending.shift()!;
      this.answer(this.client, p, this.handle(p));
    }
  }

  /**
   * The target's answer. A fault in the host's own code is a bug, but one packet must not end
   * the session or the process: it is logged and answered as an error, the machine untouched.
   */
  private handle(p: string): Answer {
    try {
      return this.target.handle(p);
    } catch (err) {
      this.o.log?.(`gdbstub: internal error on a ${JSON.stringify(p.slice(0, 20))} packet: ${(err as Error).message}`);
      return { reply: "E01", output: `internal error: ${(err as Error).message}` };
    }
  }

  private answer(sock: Socket, packet: string, a: Answer): void {
    if ("reply" in a) {
      if (a.output) this.output(sock, a.output.endsWith("\n") ? a.output : a.output + "\n");
      this.send(sock, a.reply);
      if (packet === "QStartNoAckMode") this.acks = false;
      return;
    }
    if ("run" in a) {
      this.engine.start(a.run);
      void this.drive({ forClient: true, interrupted: false });
      return;
    }
    if ("reverse" in a) {
      void this.drive({ forClient: true, interrupted: false }, a.reverse);
      return;
    }
    if ("job" in a) { void this.job(sock, a.job); return; }
    if ("detach" in a) {
      this.send(sock, "OK");
      sock.end();
      this.client = null;
      this.o.log?.("gdbstub: gdb detached; the machine runs");
      void this.drive({ forClient: false, interrupted: false }); // as qemu, a detached machine runs on
      this.next();
      return;
    }
    // k: the session ends, as qemu quits.
    this.o.log?.("gdbstub: gdb killed the session");
    sock.end();
    this.client = null;
    this.close();
  }

  /**
   * Carries out a long monitor command between turns of the event loop, as a run: packets wait,
   * Ctrl-C, a vanished client or close() stop it part way. Then the client hears its text.
   */
  private async job(sock: Socket, j: MonitorJob): Promise<void> {
    this.engine.interruptRequested = false;
    this.running = { forClient: true, interrupted: false };
    let a: Answer;
    let last = performance.now();
    try {
      for (;;) {
        if (this.engine.interruptRequested) { a = { reply: "OK", output: j.interrupt() }; break; }
        const r = j.slices.next();
        if (r.done) { a = { reply: "OK", output: r.value }; break; }
        if (performance.now() - last >= PROGRESS_MS && this.client === sock) {
          this.output(sock, j.progress() + "\n");
          last = performance.now();
        }
        await new Promise((res) => setImmediate(res));
      }
    } catch (err) {
      if (!(err instanceof DebugError)) this.o.log?.(`gdbstub: internal error in a monitor command: ${(err as Error).message}`);
      a = { reply: "E01", output: `error: ${(err as Error).message}` };
    }
    this.engine.interruptRequested = false;
    this.running = null;
    if (!this.server) return;
    if (this.client === sock) this.answer(sock, "qRcmd", a);
    this.flush();
  }

  /**
   * Runs the machine (an unattended run starts its own plan; `reverse`, a reverse run's replays)
   * until it stops; then reports to the client.
   */
  private async drive(run: { forClient: boolean; interrupted: boolean }, reverse?: ReverseRun): Promise<void> {
    if (!run.forClient) this.engine.start({});
    this.running = run;
    let stop: Stop | null = null;
    try {
      for (;;) {
        stop = reverse ? reverse.work() : this.engine.work(RUNS_PER_PIECE);
        if (stop) break;
        await new Promise((res) => setImmediate(res));
      }
    } catch (err) {
      if (reverse && err instanceof DebugError) {
        this.running = null;
        if (run.forClient && !run.interrupted && this.client && this.server) this.send(this.client, this.target.historyBegins());
        this.flush();
        return;
      }
      // As handle(): logged, and the client hears of a stop where the machine is.
      this.o.log?.(`gdbstub: internal error while running: ${(err as Error).message}`);
      stop = { cpu: this.engine.cpu, text: "" };
    }
    this.running = null;
    const interrupted = stop.text.startsWith("Interrupted.");
    if (!this.server) return;
    // Only the client that resumed the machine hears why it stopped; for anyone else (a client
    // attaching later) the reason would name a breakpoint it never set.
    const heard = run.forClient && !run.interrupted;
    const reply = this.target.stopReply(stop, interrupted && heard ? "02" : "05", heard);
    if (heard && this.client) this.send(this.client, reply);
    this.flush();
  }
}

/** Parses `[HOST:]PORT` (a bare `:PORT` or `PORT` listens on the loopback address). */
export function parseListen(text: string): { host: string; port: number } | null {
  const m = /^(?:(.*):)?(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[2]);
  if (port > 65535) return null;
  const host = m[1] || "127.0.0.1";
  if (host.length > 255 || !/^[\w.:[\]-]+$/.test(host)) return null;
  return { host: host.replace(/^\[(.*)\]$/, "$1"), port };
}

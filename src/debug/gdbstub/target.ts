// The stub's answers to gdb's requests, over the debugger's engine. vCPU i is thread i+1.
// A request that runs the machine returns a plan; the server drives it and asks for the stop
// reply when it ends. Every request is checked before anything changes.
import { writeGuest, SUPERVISOR_ACCESS } from "../../machine/paging.js";
import { DebugError, type Engine, type Plan, type Stop } from "../engine.js";
import type { Breakpoint } from "../breakpoints.js";
import { continuePlan, stepPlan } from "../stepping.js";
import { ReverseRun } from "../reverse.js";
import type { FtraceSettings } from "../kernelviews.js";
import { fromHex, PACKET_SIZE, textToHex, toHex } from "./packets.js";
import { planWrites, readAll, readRegister, targetXml } from "./registers.js";
import { monitor, type MonitorExtension, type MonitorJob } from "./monitor.js";

/** The most bytes one `m` answers (hex doubles them; the reply must fit a packet). */
const MAX_READ = PACKET_SIZE / 2 - 16;

export type Answer =
  /** Reply with this packet (after the `O` output lines, if any). */
  | { reply: string; output?: string }
  /** Run the machine by this plan (vCPU `cpu` selected). */
  | { run: Plan; cpu: number }
  /** Run backwards (bs, bc), a slice at a time as `run` is. */
  | { reverse: ReverseRun }
  | { detach: true }
  | { kill: true }
  /** A monitor command that runs for long: the server carries it out, then replies. */
  | { job: MonitorJob };

const Z_KINDS: Record<string, Breakpoint["kind"]> = { 0: "break", 1: "break", 2: "watch", 3: "rwatch", 4: "awatch" };

export class GdbTarget {
  /** Thread for registers and memory (Hg), and for s and c (Hc); 0 (any or all): the selected vCPU. */
  private gThread = 0;
  private cThread = 0;
  private readonly inserted = new Map<string, Breakpoint>();
  private readonly ftrace: FtraceSettings = { filter: "" };
  /** The last stop reply, for `?`. */
  lastStop = "";
  private xml = targetXml();

  constructor(readonly engine: Engine, private readonly extra?: MonitorExtension) {
    this.lastStop = this.stopReply(null, "05");
  }

  /**
   * A new client starts afresh, as with qemu: breakpoints and watchpoints a vanished client
   * left behind are removed (the new gdb does not know them), thread choices reset.
   */
  reset(): void {
    for (const b of this.inserted.values()) this.engine.removeBreakpoint(b);
    this.inserted.clear();
    this.gThread = this.cThread = 0;
    // The last stop stays, but not its reason: it names a breakpoint the new gdb never set.
    this.lastStop = this.lastStop.replace(/^(T..)[^]*?(thread:[0-9a-f]+;)$/, "$1$2");
  }

  private get ncpus(): number { return this.engine.machine.ncpus; }

  /** vCPU index of a thread id (hex; 0 and -1 mean the selected vCPU), or null if there is none. */
  private cpuOf(id: string): number | null {
    if (id === "0" || id === "-1") return this.engine.cpu;
    if (!/^[0-9a-fA-F]{1,8}$/.test(id)) return null;
    const n = parseInt(id, 16);
    return n >= 1 && n <= this.ncpus ? n - 1 : null;
  }

  private get gCpu(): number { return this.gThread === 0 ? this.engine.cpu : this.gThread - 1; }

  /**
   * A stop reply for the engine's stop `s` (null: the current state), signal `sig`; with
   * `reason`, the breakpoint or watchpoint that stopped it (not for a client that was not there).
   */
  stopReply(s: Stop | null, sig = "05", reason = true): string {
    const e = this.engine;
    const cpu = s?.cpu ?? e.cpu;
    const m = s?.machine;
    // A program's end: W and its exit status; a fault that kills it: T and the signal.
    if (m?.kind === "exited") return (this.lastStop = `W${hex2(m.status)}`);
    const signal = m && e.target.signalOf?.(m);
    if (signal !== undefined) sig = hex2(signal);
    let why = "";
    const hit = s && reason ? e.lastHit : null;
    if (hit?.kind === "break") why = hit.what === "Z1" ? "hwbreak:;" : "swbreak:;";
    else if (hit?.kind === "watch" || hit?.kind === "rwatch" || hit?.kind === "awatch") why = `${hit.kind}:${hit.addr!.toString(16)};`;
    this.gThread = this.cThread = 0;
    this.lastStop = `T${sig}${why}thread:${(cpu + 1).toString(16)};`;
    return this.lastStop;
  }

  /** Handles one packet's data. */
  handle(p: string): Answer {
    try {
      return this.dispatch(p);
    } catch (err) {
      if (err instanceof DebugError) return { reply: "E01", output: err.message };
      throw err;
    }
  }

  private dispatch(p: string): Answer {
    const e = this.engine;
    const ok = (reply: string, output?: string): Answer => ({ reply, output });
    switch (p[0]) {
      case "?": return ok(this.lastStop);
      case "g": return ok(readAll(e.machine.cpus[this.gCpu]));
      case "G": return ok(this.writeRegs(p.slice(1)));
      case "p": {
        const n = hexNumber(p.slice(1), 4);
        const v = n === null ? null : readRegister(e.machine.cpus[this.gCpu], Number(n));
        return ok(v ?? "E45");
      }
      case "P": {
        const m = /^([0-9a-fA-F]{1,4})=([0-9a-fA-F]*)$/.exec(p.slice(1));
        return ok(m ? this.writeRegs(m[2], parseInt(m[1], 16)) : "E22");
      }
      case "H": {
        const cpu = this.cpuOf(p.slice(2));
        if ((p[1] !== "g" && p[1] !== "c") || cpu === null) return ok("E22");
        const t = p.slice(2) === "0" || p.slice(2) === "-1" ? 0 : cpu + 1;
        if (p[1] === "g") this.gThread = t; else this.cThread = t;
        return ok("OK");
      }
      case "T": return ok(this.cpuOf(p.slice(1)) !== null && p.length > 1 ? "OK" : "E22");
      case "m": return ok(this.readMemory(p.slice(1)));
      case "M": return ok(this.writeMemory(p.slice(1), false));
      case "X": return ok(this.writeMemory(p.slice(1), true));
      case "Z": case "z": return ok(this.breakpoint(p[0] === "Z", p.slice(1)));
      case "c": case "s": case "C": case "S":
        // A resume address (c ADDR) is not supported: the machine resumes where it is.
        if (!/^[cs]$|^[CS][0-9a-fA-F]{2}$/.test(p)) return ok("E22");
        return this.resume(p[0].toLowerCase() === "s" ? (this.cThread === 0 ? this.engine.cpu : this.cThread - 1) : -1);
      case "b":
        if (p === "bs" || p === "bc") return { reverse: new ReverseRun(e, p === "bs" ? "step" : "continue") };
        return ok("");
      case "v": return this.vPacket(p);
      case "q": case "Q":
        return p.startsWith("qRcmd,") ? this.rcmd(p.slice(6)) : ok(this.query(p));
      case "k": return { kill: true };
      case "D": return /^D(;[0-9a-fA-F]+)?$/.test(p) ? { detach: true } : ok("E22");
      default: return ok(""); // unknown packets: the empty reply
    }
  }

  private resume(stepCpu: number): Answer {
    const e = this.engine;
    if (stepCpu >= 0) { e.cpu = stepCpu; return { run: stepPlan(e, 1), cpu: stepCpu }; }
    return { run: continuePlan(), cpu: e.cpu };
  }

  /** A reverse run that could not go back (a DebugError): the recorded history ends here, gdb's "no more reverse-execution history". */
  historyBegins(): string {
    return `T05replaylog:begin;thread:${(this.engine.cpu + 1).toString(16)};`;
  }

  private vPacket(p: string): Answer {
    if (p === "vCont?") return { reply: "vCont;c;C;s;S" };
    if (!p.startsWith("vCont;")) return { reply: "" };
    // vCont;ACTION[:THREAD]...: the first action naming a thread for a step decides; the rest continue.
    let step = -1;
    for (const a of p.slice(6).split(";")) {
      const m = /^([cCsS])(?:[0-9a-fA-F]{2})?(?::([0-9a-fA-F]{1,8}|-1))?$/.exec(a);
      if (!m) return { reply: "E22" };
      if (m[1].toLowerCase() === "s" && step < 0) {
        const cpu = m[2] === undefined ? this.engine.cpu : this.cpuOf(m[2]);
        if (cpu === null) return { reply: "E22" };
        step = cpu;
      }
    }
    return this.resume(step);
  }

  private query(p: string): string {
    const e = this.engine;
    if (p.startsWith("qSupported")) {
      return `PacketSize=${PACKET_SIZE.toString(16)};qXfer:features:read+;qXfer:threads:read+;vContSupported+;QStartNoAckMode+;` +
        "swbreak+;hwbreak+;ReverseStep+;ReverseContinue+";
    }
    if (p === "qAttached" || p.startsWith("qAttached:")) return "1";
    if (p === "qC") return `QC${(e.cpu + 1).toString(16)}`;
    if (p === "qfThreadInfo") return "m" + Array.from({ length: this.ncpus }, (_, i) => (i + 1).toString(16)).join(",");
    if (p === "qsThreadInfo") return "l";
    if (p.startsWith("qThreadExtraInfo,")) {
      const cpu = this.cpuOf(p.slice(17));
      return cpu === null ? "E22" : textToHex(this.threadName(cpu));
    }
    if (p.startsWith("qXfer:features:read:")) return this.xfer(p.slice(20), (annex) => (annex === "target.xml" ? this.xml : null));
    if (p.startsWith("qXfer:threads:read:")) return this.xfer(p.slice(19), (annex) => (annex === "" ? this.threadsXml() : null));
    if (p === "QStartNoAckMode") return "OK"; // the server turns acks off after sending this
    if (p === "qOffsets") {
      // Where a position-independent program was loaded, so gdb relocates its symbols.
      const bias = e.target.loadBias;
      if (bias === undefined) return "";
      const b = bias.toString(16);
      return `Text=${b};Data=${b};Bss=${b}`;
    }
    return "";
  }

  /** `monitor`: its text goes as `O` packets before the reply. */
  private rcmd(hex: string): Answer {
    const bytes = fromHex(hex);
    if (!bytes) return { reply: "E22" };
    try {
      const r = monitor(this.engine, this.ftrace, Buffer.from(bytes).toString("utf8"), this.extra);
      return typeof r === "string" ? { reply: "OK", output: r + "\n" } : { job: r };
    } catch (err) {
      if (!(err instanceof DebugError)) throw err;
      return { reply: "E01", output: `error: ${err.message}\n` };
    }
  }

  threadName(cpu: number): string {
    return this.engine.target.threadName(cpu);
  }

  private threadsXml(): string {
    const rows = Array.from({ length: this.ncpus }, (_, i) =>
      `<thread id="${(i + 1).toString(16)}" core="${i}">${escapeXml(this.threadName(i))}</thread>`);
    return `<?xml version="1.0"?>\n<threads>\n${rows.join("\n")}\n</threads>\n`;
  }

  /** qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH over the text `doc(annex)`. */
  private xfer(rest: string, doc: (annex: string) => string | null): string {
    const m = /^([^:]*):([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8})$/.exec(rest);
    if (!m) return "E22";
    const text = doc(m[1]);
    if (text === null) return "E00";
    const off = parseInt(m[2], 16), len = Math.min(parseInt(m[3], 16), MAX_READ);
    if (off > text.length) return "E22";
    const part = text.slice(off, off + len);
    return (off + len >= text.length ? "l" : "m") + part;
  }

  private readMemory(args: string): string {
    const m = /^([0-9a-fA-F]{1,16}),([0-9a-fA-F]{1,8})$/.exec(args);
    if (!m) return "E22";
    const addr = BigInt("0x" + m[1]);
    const len = Math.min(parseInt(m[2], 16), MAX_READ);
    // Page by page: a read that runs into an unmapped page answers the bytes before it.
    const out: Uint8Array[] = [];
    let done = 0;
    while (done < len) {
      const a = BigInt.asUintN(64, addr + BigInt(done));
      const n = Math.min(len - done, 4096 - Number(a & 0xfffn));
      const b = this.engine.read(a, n, this.gCpu);
      if (!b) break;
      out.push(b);
      done += n;
    }
    if (done === 0 && len > 0) return "E14";
    return out.map(toHex).join("");
  }

  private writeMemory(args: string, binary: boolean): string {
    const m = /^([0-9a-fA-F]{1,16}),([0-9a-fA-F]{1,8}):([\s\S]*)$/.exec(args);
    if (!m) return "E22";
    const len = parseInt(m[2], 16);
    const bytes = binary ? Uint8Array.from(Buffer.from(m[3], "latin1")) : fromHex(m[3]);
    if (!bytes || bytes.length !== len) return "E22";
    if (len === 0) return "OK";
    const e = this.engine;
    const c = e.machine.cpus[this.gCpu];
    // As the REPL's `set`: a supervisor write (text included); nothing is written if any page is missing.
    const f = writeGuest(e.machine, Number(c.get("cr3") & ~0xfffn), BigInt("0x" + m[1]), bytes, SUPERVISOR_ACCESS);
    if (f) return "E14";
    e.changed();
    return "OK";
  }

  private writeRegs(hex: string, only?: number): string {
    const w = planWrites(this.engine.machine.cpus[this.gCpu], hex, only);
    if (typeof w === "string") return "E22";
    w.apply();
    this.engine.changed();
    return "OK";
  }

  /** Z/z TYPE,ADDR,KIND: breakpoints and watchpoints in the engine's table (guest text untouched). */
  private breakpoint(insert: boolean, args: string): string {
    const m = /^([0-4]),([0-9a-fA-F]{1,16}),([0-9a-fA-F]{1,2})(;.*)?$/.exec(args);
    if (!m) return "E22";
    const kind = Z_KINDS[m[1]];
    const addr = BigInt("0x" + m[2]), size = parseInt(m[3], 16);
    if (kind !== "break" && ![1, 2, 4, 8].includes(size)) return "E22";
    const key = `${m[1]}:${addr}:${size}`;
    const e = this.engine;
    const have = this.inserted.get(key);
    if (!insert) {
      if (have) { e.removeBreakpoint(have); this.inserted.delete(key); }
      return "OK";
    }
    if (have) return "OK";
    if (this.inserted.size >= 256) return "E28"; // the table is small: a bound, not a guess
    const b = e.addBreakpoint(kind === "break"
      ? { kind, temporary: false, addr, what: `Z${m[1]}` }
      : { kind, temporary: false, addr, size, what: `gdb ${kind} at 0x${addr.toString(16)}` });
    this.inserted.set(key, b);
    return "OK";
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

function hexNumber(text: string, maxDigits: number): bigint | null {
  return new RegExp(`^[0-9a-fA-F]{1,${maxDigits}}$`).test(text) ? BigInt("0x" + text) : null;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

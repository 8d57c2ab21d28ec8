// The stub over real TCP: requests and their answers, runs and interrupts, and hostile input
// (random and truncated packets, bad checksums, huge packets, a client vanishing).
import { describe, it, expect, afterEach } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { Engine } from "../../src/debug/engine.js";
import { GdbServer, parseListen } from "../../src/debug/gdbstub/server.js";
import { frame, PACKET_SIZE, textToHex } from "../../src/debug/gdbstub/packets.js";
import { REGISTERS } from "../../src/debug/gdbstub/registers.js";
import { parseDebug } from "../../src/cli/debug.js";
import { UsageError } from "../../src/cli/args.js";
import { fullState } from "./state.js";
import { Client } from "./gdbstub-client.js";

let server: GdbServer | null = null;

async function start(cpus = 2, wait = true): Promise<{ k: Kernel; port: number; s: GdbServer }> {
  const k = Kernel.boot({ cpus });
  const s = new GdbServer(new Engine(k), { host: "127.0.0.1", port: 0, wait });
  server = s;
  return { k, port: await s.listen(), s };
}

afterEach(() => { server?.close(); server = null; });

const regIndex = (name: string) => REGISTERS.findIndex((r) => r.name === name);
const le64 = (v: bigint) => Buffer.from(BigInt.asUintN(64, v).toString(16).padStart(16, "0"), "hex").reverse().toString("hex");

describe("gdbstub requests", () => {
  it("qSupported, ?, threads, thread names and the target description answer as the protocol says", async () => {
    const { k, port } = await start(2);
    const c = await Client.open(port);
    expect(await c.ask("qSupported:multiprocess+;swbreak+;hwbreak+")).toMatch(/PacketSize=4000;qXfer:features:read\+;.*QStartNoAckMode\+/);
    expect(await c.ask("?")).toBe("T05thread:1;");
    expect(await c.ask("qAttached")).toBe("1");
    expect(await c.ask("qfThreadInfo")).toBe("m1,2");
    expect(await c.ask("qsThreadInfo")).toBe("l");
    const name = Buffer.from(await c.ask("qThreadExtraInfo,2"), "hex").toString();
    expect(name).toBe(`CPU#1 [${k.sched.current[1].name}]`);
    const xml = await c.ask("qXfer:features:read:target.xml:0,3ff0");
    expect(xml[0]).toBe("l");
    expect(xml).toContain("<architecture>i386:x86-64</architecture>");
    for (const r of ["fs_base", "gs_base", "k_gs_base", "cr3", "efer"]) expect(xml).toContain(`name="${r}"`);
    expect(await c.ask("qXfer:features:read:other.xml:0,10")).toBe("E00");
    expect(await c.ask("vMustReplyEmpty")).toBe("");
    await c.end();
  });

  it("registers read through g and p and change through P; a read-only one refuses a new value", async () => {
    const { k, port } = await start(2);
    const c = await Client.open(port);
    const cpu1 = k.machine.cpus[1];
    expect(await c.ask("Hg2")).toBe("OK");
    const g = await c.ask("g");
    const ripAt = REGISTERS.slice(0, regIndex("rip")).reduce((n, r) => n + r.bits / 4, 0);
    expect(g.slice(ripAt, ripAt + 16)).toBe(le64(cpu1.rip));
    expect(await c.ask(`p${regIndex("cr3").toString(16)}`)).toBe(le64(cpu1.get("cr3")));
    expect(await c.ask(`P${regIndex("rax").toString(16)}=${le64(0x1234n)}`)).toBe("OK");
    expect(cpu1.reg(0)).toBe(0x1234n);
    expect(k.machine.cpus[0].reg(0)).not.toBe(0x1234n);
    expect(await c.ask(`P${regIndex("cr3").toString(16)}=${le64(0x5000n)}`)).toBe("E22");
    expect(await c.ask("p999")).toBe("E45");
    expect(await c.ask("Hg9")).toBe("E22");
    await c.end();
  });

  it("memory reads through the page tables; unmapped memory answers E14 and writes nothing", async () => {
    const { k, port, s } = await start(1);
    const c = await Client.open(port);
    const at = k.symbols.get("work_leaf")!.addr;
    expect(await c.ask(`m${at.toString(16)},8`)).toBe(Buffer.from(s.engine.read(at, 8)!).toString("hex"));
    expect(await c.ask("m0,10")).toBe("E14");
    const before = fullState(k);
    expect(await c.ask("M0,2:abcd")).toBe("E14");
    expect(await c.ask("Mzz")).toBe("E22");
    expect(await c.ask("M0,2:ab")).toBe("E22"); // fewer bytes than the length says
    expect(fullState(k)).toBe(before);
    const jiffies = k.symbols.get("jiffies")!.addr.toString(16);
    expect(await c.ask(`M${jiffies},2:3412`)).toBe("OK");
    expect(await c.ask(`m${jiffies},2`)).toBe("3412");
    expect(await c.ask(`X${jiffies},2:#\x05`)).toBe("OK"); // binary; frame() escapes the # (0x23) as }\x03
    expect(await c.ask(`m${jiffies},2`)).toBe("2305");
    await c.end();
  });

  it("Z0 stops c at the function with a swbreak stop reply; guest text stays byte-exact", async () => {
    const { k, port } = await start(2);
    const c = await Client.open(port);
    const at = k.symbols.get("work_leaf")!.addr;
    const text = await c.ask(`m${at.toString(16)},10`);
    expect(await c.ask(`Z0,${at.toString(16)},1`)).toBe("OK");
    expect(await c.ask(`m${at.toString(16)},10`)).toBe(text);
    const stop = await c.ask("vCont;c");
    expect(stop).toMatch(/^T05swbreak:;thread:[12];$/);
    const cpu = parseInt(/thread:(\d)/.exec(stop)![1]) - 1;
    expect(k.machine.cpus[cpu].rip).toBe(at);
    expect(await c.ask(`z0,${at.toString(16)},1`)).toBe("OK");
    expect(await c.ask(`Hc${cpu + 1}`)).toBe("OK");
    expect(await c.ask("s")).toBe(`T05thread:${cpu + 1};`);
    expect(k.machine.cpus[cpu].rip).not.toBe(at);
    await c.end();
  });

  it("without --gdb-wait the machine runs until gdb attaches, and attaching stops it (as qemu -s)", async () => {
    const { k, port } = await start(2, false);
    expect(k.machine.time).toBeGreaterThan(0n); // listen() ran the machine's first piece already
    const c = await Client.open(port);
    expect(await c.ask("?")).toMatch(/^T05thread:[12];$/);
    const t = k.machine.time;
    expect(await c.ask("g")).toMatch(/^[0-9a-f]+$/);
    expect(k.machine.time).toBe(t); // stopped while attached
    await c.end();
  });

  it("0x03 interrupts a c that nothing else would stop: T02", async () => {
    const { port } = await start(2);
    const c = await Client.open(port);
    // The interrupt arrives with the c, so the run stops at its first stop point.
    c.raw(Buffer.concat([frame("c"), Buffer.from([3])]));
    expect(await c.reply()).toMatch(/^T02thread:[12];$/);
    expect(await c.ask("?")).toMatch(/^T02thread:[12];$/);
    await c.end();
  });

  it("monitor runs the kernel views and sends their text as O packets", async () => {
    const { port } = await start(1);
    const c = await Client.open(port);
    expect(await c.ask("qRcmd," + textToHex("rcu"))).toBe("OK");
    expect(c.console).toMatch(/^rcu: gp \d+, state \w+/);
    c.console = "";
    expect(await c.ask("qRcmd," + textToHex("info stacks"))).toBe("OK");
    expect(c.console).toContain("rsp of");
    c.console = "";
    expect(await c.ask("qRcmd," + textToHex("bogus"))).toBe("E01");
    expect(c.console).toMatch(/unknown monitor command "bogus"/);
    await c.end();
  });

  it("QStartNoAckMode turns the acknowledgments off after its own reply", async () => {
    const { port } = await start(1);
    const c = await Client.open(port);
    const seen: string[] = [];
    c.sock.on("data", (d: Buffer) => seen.push(d.toString("latin1")));
    expect(await c.ask("QStartNoAckMode")).toBe("OK");
    seen.length = 0;
    c.raw("$g#00"); // a bad checksum: no `-` once acks are off
    expect(await c.ask("qC")).toBe("QC1");
    expect(seen.join("")).not.toMatch(/^[+-]/);
    await c.end();
  });

  it("[HOST:]PORT parses to the loopback address unless a host is given", () => {
    expect(parseListen(":1234")).toEqual({ host: "127.0.0.1", port: 1234 });
    expect(parseListen("1234")).toEqual({ host: "127.0.0.1", port: 1234 });
    expect(parseListen("0.0.0.0:99")).toEqual({ host: "0.0.0.0", port: 99 });
    expect(parseListen("70000")).toBeNull();
    expect(parseListen("a b:1")).toBeNull();
  });

  it("debug --gdb and --gdb-wait: the address, the wait flag, and refusals of what does not apply", () => {
    expect(parseDebug(["--gdb", ":1234"]).gdb).toEqual({ host: "127.0.0.1", port: 1234, wait: false });
    expect(parseDebug(["--gdb-wait"]).gdb).toEqual({ host: "127.0.0.1", port: 1234, wait: true });
    expect(parseDebug(["--gdb", "0.0.0.0:5", "--gdb-wait"]).gdb).toEqual({ host: "0.0.0.0", port: 5, wait: true });
    expect(() => parseDebug(["--gdb", "nope"])).toThrow(UsageError);
    expect(() => parseDebug(["--gdb"])).toThrow(/--gdb needs \[HOST:\]PORT/);
    expect(() => parseDebug(["--gdb", "1", "--batch"])).toThrow(/-x and --batch do not apply/);
    expect(parseDebug([]).gdb).toBeUndefined();
  });
});

/** A seeded generator (xorshift), so a failing fuzz case can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 0x1_0000_0000; };
}

/** Reads replies (sending `probe` first, if given) until one passes `want`; false after 100 others. */
async function until(c: Client, want: (a: string) => boolean, probe?: string): Promise<boolean> {
  if (probe) c.raw(frame(probe));
  for (let n = 0; n < 100; n++) if (want(await c.reply())) return true;
  return false;
}

describe("gdbstub under hostile input", () => {
  it("random, truncated, badly summed and huge packets never crash the host or change the machine; a new client attaches", async () => {
    const { k, port, s } = await start(2);
    const before = fullState(k);
    const rand = rng(16);
    const c = await Client.open(port);
    const leaf = k.symbols.get("work_leaf")!.addr;
    const text = Buffer.from(s.engine.read(leaf, 256)!).toString("hex");
    // Packets that could legitimately change state (c, s, k, D, b, v, C, S, M, X, G, P, Z) are left out of the valid ones.
    const starts = "?gmpHTqQ_!z";
    for (let round = 0; round < 200; round++) {
      const len = 1 + Math.floor(rand() * 40);
      const bytes = Array.from({ length: len }, () => Math.floor(rand() * 256));
      const kind = round % 4;
      if (kind === 0) c.raw(Uint8Array.from(bytes)); // raw noise
      else if (kind === 1) c.raw(frame(starts[Math.floor(rand() * starts.length)] + Buffer.from(bytes).toString("latin1")));
      else if (kind === 2) {
        const f = frame("q" + Buffer.from(bytes).toString("latin1"));
        c.raw(f.subarray(0, Math.floor(rand() * f.length)));
      }
      else c.raw("$" + Buffer.from(bytes).toString("hex") + "#zz");
      // Whatever state the decoder was left in, "#00#00" ends it and the next packet is read whole.
      c.raw("#00#00");
      // The answers to the noise come first (and retransmissions the noise's `-` bytes asked
      // for), then this probe's: a read whose length differs every round.
      c.raw(frame(`m${leaf.toString(16)},${(round + 1).toString(16)}`));
      expect(await until(c, (a) => a === text.slice(0, 2 * (round + 1)))).toBe(true);
    }
    c.raw("$" + "m".repeat(PACKET_SIZE * 2) + "#00");
    expect(await until(c, (a) => a === "E22")).toBe(true);
    expect(await until(c, (a) => a === "QC1" || a === "QC2", "qC")).toBe(true);
    c.raw("$m0,10#"); // truncated mid-packet, then the client vanishes
    c.sock.destroy();
    expect(fullState(k)).toBe(before);
    const d = await Client.open(port);
    expect(await d.ask("?")).toMatch(/^T0[25]thread:[12];$/);
    expect(await d.ask("qfThreadInfo")).toBe("m1,2");
    expect(fullState(k)).toBe(before);
    await d.end();
  });

  it("a client that vanishes during c leaves the machine stopped; the next one finds no stale breakpoint and can resume it", async () => {
    const { k, port, s } = await start(2);
    const c = await Client.open(port);
    const at = k.symbols.get("work_leaf")!.addr;
    expect(await c.ask(`Z0,${k.symbols.get("work_middle")!.addr.toString(16)},1`)).toBe("OK");
    c.raw(frame("c"));
    c.sock.destroy();
    const d = await Client.open(port);
    expect(await d.ask("?")).toMatch(/^T0[25]thread:[12];$/);
    expect(s.engine.breakpoints).toEqual([]);
    expect(await d.ask(`Z0,${at.toString(16)},1`)).toBe("OK");
    expect(await d.ask("c")).toMatch(/^T05swbreak:;thread:[12];$/);
    await d.end();
  });
});

// The real gdb (Debian's, installed by .ci/run when absent) in batch mode against the stub,
// over an ephemeral port: threads, a breakpoint, a backtrace, stepping, memory, registers,
// a watchpoint, reverse stepping, monitor and detach.
import { describe, it, expect, afterEach } from "vitest";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { Kernel } from "../../src/kernel/kernel.js";
import { Engine } from "../../src/debug/engine.js";
import { GdbServer } from "../../src/debug/gdbstub/server.js";
import { Client } from "./gdbstub-client.js";
import { serveChild } from "./serve.js";

const GDB = "/usr/bin/gdb";
const ELF = "build/firmware.elf";

let server: GdbServer | null = null;
afterEach(() => { server?.close(); server = null; });

async function start(cpus: number): Promise<{ k: Kernel; port: number; s: GdbServer }> {
  const k = Kernel.boot({ cpus });
  const s = new GdbServer(new Engine(k), { host: "127.0.0.1", port: 0, wait: true });
  server = s;
  return { k, port: await s.listen(), s };
}

/** Runs gdb -batch with these commands; resolves to its standard output and error together. */
function gdb(port: number, commands: string[]): Promise<string> {
  const args = ["-batch", "-nx", "-ex", `target remote :${port}`, ...commands.flatMap((c) => ["-ex", c]), ELF];
  return new Promise((resolve) => {
    execFile(GDB, args, { maxBuffer: 1 << 20 }, (_err, stdout, stderr) => resolve(stdout + stderr));
  });
}

describe("gdb attached to the stub", () => {
  it("gdb and the firmware image are there (the CI script installs gdb)", () => {
    expect(existsSync(GDB)).toBe(true);
    expect(existsSync(ELF)).toBe(true);
  });

  it("info threads lists every vCPU; b work_leaf, c, bt, stepi, x/3i $pc, p $rsp, monitor rcu, detach", async () => {
    const { k, port } = await start(4);
    const names = k.sched.current.map((t) => t.name);
    const out = await gdb(port, ["info threads", "b work_leaf", "c", "bt", "stepi", "x/3i $pc", "p $rsp", "monitor rcu", "detach"]);
    for (let i = 0; i < 4; i++) expect(out).toContain(`Thread ${i + 1} (CPU#${i} [${names[i]}])`);
    expect(out).toMatch(/Thread \d hit Breakpoint 1, (0x[0-9a-f]+ in )?work_leaf \(/);
    expect(out).toMatch(/#0 +(0x[0-9a-f]+ in )?work_leaf \(.*\n#1 +0x[0-9a-f]+ in work_middle \(/);
    expect(out).toMatch(/=> 0x[0-9a-f]+ <work_leaf\+\d+>:/);
    expect(out).toMatch(/\$1 = \(void \*\) 0x[0-9a-f]+/);
    expect(out).toMatch(/^rcu: gp \d+, state \w+/m);
    expect(out).toContain("[Inferior 1 (Remote target) detached]");
    expect(out).not.toMatch(/Remote connection closed|Protocol error|Remote failure/);
    // $rsp is on a kernel stack (the machine runs on after detach, so it is not compared with one now).
    expect(out).toMatch(/\$1 = \(void \*\) 0xffff[0-9a-f]{12}\n/);
  });

  it("watch stops where the value changed; reverse-stepi lands on the forward run's state", async () => {
    const { k, port } = await start(2);
    const out = await gdb(port, [
      "watch *(long *)&jiffies", "c", "delete", "b work_leaf", "c", "stepi", "p $pc", "p $rsp", "stepi", "reverse-stepi", "p $pc", "p $rsp",
      "monitor info stacks", "kill",
    ]);
    expect(out).toMatch(/Hardware watchpoint 1: \*\(long \*\)&jiffies\n\nOld value = 0\nNew value = 1/);
    const pcs = [...out.matchAll(/\$\d+ = \(void \(\*\)\(\)\) (0x[0-9a-f]+) <work_leaf\+(\d+)>/g)];
    const rsps = [...out.matchAll(/\$\d+ = \(void \*\) (0x[0-9a-f]+)/g)];
    // stepi, stepi, reverse-stepi: the very state the first stepi reached (pc and stack pointer).
    expect(pcs.length).toBe(2);
    expect(pcs[1][1]).toBe(pcs[0][1]);
    expect(Number(pcs[0][2])).toBeGreaterThan(0);
    expect(rsps.map((r) => r[1])).toEqual([rsps[0][1], rsps[0][1]]);
    expect(out).toContain("rsp of");
    expect(out).toContain("[Inferior 1 (Remote target) killed]");
    // k ends the session: the server closed.
    await server!.done();
    expect(k.machine.cpus.length).toBe(2);
  });

  it("reverse-continue from the second hit of a breakpoint lands on the first, in the same state", async () => {
    const { port } = await start(2);
    const out = await gdb(port, ["b work_leaf", "c", "p $rsp", "p $rdi", "c", "p $rsp", "reverse-continue", "p $rsp", "p $rdi", "kill"]);
    expect(out.match(/hit Breakpoint 1/g)?.length).toBe(3);
    const v = [...out.matchAll(/\$\d+ = (.*)/g)].map((m) => m[1]);
    expect(v.length).toBe(5);
    expect([v[3], v[4]]).toEqual([v[0], v[1]]);
    expect(out).not.toMatch(/No more reverse-execution history|Remote failure/);
  });

  it("after gdb detaches, a second gdb attaches to the same machine", async () => {
    const { port } = await start(2);
    const first = await gdb(port, ["b work_leaf", "c", "detach"]);
    expect(first).toContain("detached");
    const c = await Client.open(port);
    expect(await c.ask("qfThreadInfo")).toBe("m1,2");
    await c.end();
    const second = await gdb(port, ["info threads", "detach"]);
    expect(second).toMatch(/2 +Thread 2 \(CPU#1/);
  });

  it("tramplab debug --gdb :0 --gdb-wait serves gdb; gdb's kill ends the process with status 0", async () => {
    const { port, exited, log } = await serveChild(["bin/tramplab.js", "debug", "--cpus", "2", "--gdb", ":0", "--gdb-wait"]);
    const out = await gdb(port, ["info threads", "kill"]);
    expect(out).toMatch(/2 +Thread 2 \(CPU#1/);
    expect(await exited).toBe(0);
    expect(log()).toContain("gdb killed the session");
  });
});

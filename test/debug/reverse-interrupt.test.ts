// Interrupting reverse runs: the replays run in slices and look at the engine's
// interruptRequested between them, as forward runs do. Interrupts here are set from the
// ReverseRun's slice hook after a given number of slices (or, for the stub, sent in the same
// TCP write as the request), never by a timer.
import { describe, it, expect, afterEach } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { Engine } from "../../src/debug/engine.js";
import { Session } from "../../src/debug/commands.js";
import { ReverseRun } from "../../src/debug/reverse.js";
import { positionOf } from "../../src/debug/checkpoint.js";
import { GdbServer } from "../../src/debug/gdbstub/server.js";
import { frame } from "../../src/debug/gdbstub/packets.js";
import { fullState } from "./state.js";
import { Client } from "./gdbstub-client.js";

/** A session 12 ms into the run (2 vCPUs): a history of a few checkpoints, each window many slices long. */
function far(): { k: Kernel; s: Session } {
  const k = Kernel.boot({ cpus: 2 });
  const s = new Session(new Engine(k));
  s.execute("run 12ms");
  return { k, s };
}

/** How many slices a reverse run takes when nothing interrupts it, and where it ends. */
function uninterrupted(kind: "step" | "continue", setup: (s: Session) => void): { slices: number; text: string; state: string } {
  const { k, s } = far();
  setup(s);
  let slices = 0;
  const stop = new ReverseRun(s.engine, kind, (n) => { slices = n; }).finish();
  return { slices, text: stop.text, state: fullState(k) };
}

/** The reverse run interrupted before slice `at`'s successor: its stop and the state it left. */
function interruptedAt(kind: "step" | "continue", at: number, setup: (s: Session) => void) {
  const { k, s } = far();
  setup(s);
  const before = fullState(k), startPosition = positionOf(k.machine);
  const e = s.engine;
  const stop = new ReverseRun(e, kind, (n) => { if (n === at) e.interruptRequested = true; }).finish();
  return { k, s, stop, before, startPosition };
}

const none = () => { /* no breakpoints: rc scans every window back to the start of the history */ };

describe("interrupting reverse-continue", () => {
  it("an interrupt in the first window goes back where rc started; rc then ends as an uninterrupted one", () => {
    const full = uninterrupted("continue", none);
    expect(full.slices).toBeGreaterThan(4);
    expect(full.text).toMatch(/^No earlier breakpoint, watchpoint or event hit/);
    const { k, s, stop, before } = interruptedAt("continue", 1, none);
    expect(stop.text).toMatch(/^Interrupted.\n\[cpu\d\] => 0x[0-9a-f]+ </);
    expect(fullState(k)).toBe(before);
    expect(s.engine.interruptRequested).toBe(false);
    expect(s.execute("rc").text).toBe(full.text);
    expect(fullState(k)).toBe(full.state);
  });

  it("an interrupt after whole windows were scanned stops at the oldest scanned checkpoint; rc carries on from there", () => {
    const full = uninterrupted("continue", none);
    const { k, s, stop, startPosition } = interruptedAt("continue", full.slices - 1, none);
    expect(stop.text).toMatch(/^Interrupted.\n/);
    const here = positionOf(k.machine);
    expect(here).toBeLessThan(startPosition);
    expect(s.engine.history.map((c) => c.position)).toContain(here);
    // The history's first window was the one being scanned: the stop is at the second checkpoint.
    expect(here).toBe(s.engine.history[1].position);
    expect(s.execute("rc").text).toBe(full.text);
    expect(fullState(k)).toBe(full.state);
  });
});

describe("interrupting reverse-stepi", () => {
  it("an interrupt goes back where rsi started, and rsi then lands on the uninterrupted rsi's state", () => {
    const full = uninterrupted("step", none);
    expect(full.slices).toBeGreaterThan(1);
    const { k, s, stop, before } = interruptedAt("step", Math.floor(full.slices / 2), none);
    expect(stop.text).toMatch(/^Interrupted.\n/);
    expect(fullState(k)).toBe(before);
    s.execute("rsi");
    expect(fullState(k)).toBe(full.state);
  });
});

describe("interrupting the stub's bc", () => {
  let server: GdbServer | null = null;
  afterEach(() => { server?.close(); server = null; });

  it("0x03 right behind bc stops the reverse run where it started and answers T02; bc then runs to its end", async () => {
    const { k, s } = far();
    server = new GdbServer(s.engine, { host: "127.0.0.1", port: 0, wait: true });
    const c = await Client.open(await server.listen());
    expect(await c.ask("QStartNoAckMode")).toBe("OK");
    const before = fullState(k);
    // One write: the stub runs the first slice of bc, then reads the 0x03 before the next.
    c.raw(Buffer.concat([frame("bc"), Buffer.from([3])]));
    expect(await c.reply()).toBe("T02thread:1;");
    expect(fullState(k)).toBe(before);
    // No breakpoints: back to the start of the recorded history.
    expect(await c.ask("bc")).toBe("T05thread:1;");
    expect(positionOf(k.machine)).toBe(s.engine.history[0].position);
    await c.end();
  });
});

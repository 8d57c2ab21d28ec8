// break-on gp's states come from the RCU state machines' own table (src/kernel/rcu/states.ts):
// every state a flavour enters is in its table, the states seen between rounds are exactly the
// ones the debugger accepts, and a state no machine enters is refused.
import { describe, it, expect } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { Engine } from "../../src/debug/engine.js";
import { Session } from "../../src/debug/commands.js";
import { gpStates } from "../../src/debug/gpstates.js";

/** Boots, records every state each flavour's machine enters while one grace period of each runs. */
function run(): { k: Kernel; entered: Map<string, Set<string>>; seen: Map<string, Set<string>> } {
  const k = Kernel.boot({ cpus: 2 });
  const entered = new Map<string, Set<string>>(), seen = new Map<string, Set<string>>();
  for (const f of k.rcu.flavours) {
    const data = f.data, states = new Set<string>([data.state]);
    entered.set(f.name, states);
    seen.set(f.name, new Set());
    // Every assignment of the machine's state, including the states it leaves within one advance.
    let state = data.state;
    Object.defineProperty(data, "state", { get: () => state, set: (v: string) => { state = v; states.add(v); } });
  }
  const targets = k.rcu.flavours.map((f) => f.request(k.machine.time));
  // 20000 rounds of 10 us: Tasks RCU rescans its holdouts HZ/10 jiffies (100 ms) after its scan.
  for (let round = 0; round < 20_000 && k.rcu.flavours.some((f, i) => !f.done(targets[i])); round++) {
    k.run(10_000n);
    for (const f of k.rcu.flavours) seen.get(f.name)!.add(f.state);
  }
  expect(k.rcu.flavours.every((f, i) => f.done(targets[i]))).toBe(true);
  return { k, entered, seen };
}

describe("break-on gp states", () => {
  it("every state a grace period enters is in its flavour's table, and only the waiting ones are seen between rounds", () => {
    const { k, entered, seen } = run();
    for (const f of k.rcu.flavours) {
      const table = [...f.gpStates.waits, ...f.gpStates.passes];
      expect([...entered.get(f.name)!].filter((s) => !table.includes(s)), f.name).toEqual([]);
      expect([...seen.get(f.name)!].filter((s) => !f.gpStates.waits.includes(s)), f.name).toEqual([]);
      expect(gpStates(f)).toEqual([...f.gpStates.waits]);
    }
    // The machines really ran: Tasks RCU went through its whole rcu_tasks_wait_gp().
    const tasks = ["wait_pregp", "scan_tasklist", "post_gp", "invoke_cbs", "idle"];
    expect([...entered.get("rcu_tasks")!]).toEqual(expect.arrayContaining(tasks));
    expect([...entered.get("rcu")!]).toEqual(expect.arrayContaining(["wait_qs", "invoke_cbs", "idle"]));
  });

  it("the debugger accepts every waiting state of every flavour, and refuses passing and bogus ones", () => {
    const s = new Session(new Engine(Kernel.boot({ cpus: 2 })));
    let id = 0;
    for (const f of s.engine.kernel.rcu.flavours) {
      const waits = f.gpStates.waits.join(", ");
      for (const state of f.gpStates.waits) {
        expect(s.execute(`break-on gp ${f.name} ${state}`).text).toBe(`Breakpoint ${++id}: ${f.name} enters state ${state}`);
      }
      for (const state of [...f.gpStates.passes, "bogusstate"]) {
        expect(s.execute(`break-on gp ${f.name} ${state}`).text)
          .toBe(`error: ${f.name} has no state "${state}" (the states it waits in: ${waits})`);
      }
    }
    expect(id).toBeGreaterThanOrEqual(12);
  });
});

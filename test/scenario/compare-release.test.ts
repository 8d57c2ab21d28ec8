import { describe, it, expect } from "vitest";
import { ALTERNATIVES, compareRelease, formatComparison, type Outcome } from "../../src/scenario/compare-release.js";
import { main } from "../../src/cli/main.js";

describe("compare-release: seed 000's ways of releasing a trampoline, on one victim", () => {
  const rows = compareRelease();
  const row = (name: string): Outcome => rows.find((r) => r.alt.name === name)!;

  it("every alternative ran as planned (the victim was inside when the ops was unregistered)", () => {
    expect(rows.map((r) => r.alt.name)).toEqual(ALTERNATIVES.map((a) => a.name));
    expect(rows.filter((r) => r.failure).map((r) => r.failure)).toEqual([]);
    for (const r of rows) expect(r.latency, r.alt.name).toBeDefined();
  });

  it("on a preemptible kernel plain RCU, the IP check and the check at preemption time free the trampoline under the victim", () => {
    for (const name of ["rcu", "ip-check", "preempt-check"]) {
      expect(row(name).victim, name).toBe("preempted");
      expect(row(name).heldAtFree, name).toBe(1);
      expect(row(name).useAfterFree, name).toBe(true);
    }
  });

  it("Tasks RCU, the stack scan and permanent trampolines are safe there; permanent ones at plain RCU's latency", () => {
    for (const name of ["kernel", "stack-scan", "permanent"]) {
      expect(row(name).heldAtFree, name).toBe(0);
      expect(row(name).useAfterFree, name).toBe(false);
    }
    expect(row("permanent").waited).toMatch(/^after rcu gp \d+ /);
    expect(row("permanent").latency!).toBeLessThan(row("stack-scan").latency!);
    expect(row("stack-scan").latency!).toBeLessThan(row("kernel").latency!);
  });

  it("on a non-preemptible kernel plain RCU is safe, and always using Tasks RCU costs latency", () => {
    for (const name of ["none+rcu", "none+kernel", "none+tasks"]) {
      expect(row(name).victim, name).toBe("running");
      expect(row(name).useAfterFree, name).toBe(false);
    }
    expect(row("none+tasks").waited).toMatch(/rcu_tasks gp/);
    expect(row("none+tasks").latency!).toBeGreaterThan(5n * row("none+rcu").latency!);
  });

  it("the table names each alternative with its latency and outcome", () => {
    const text = formatComparison(rows);
    expect(text.split("\n")[0]).toMatch(/^alternative +preempt +release +victim at unregister +freed after +held at free +use-after-free$/);
    expect(text).toMatch(/\npermanent +full +rcu \(permanent\) +running inside +\S+ us +0 +no\n/);
    expect(text).toMatch(/\nip-check +full +ip-check +preempted inside +\S+ us +1 +YES\n/);
  });

  it("a bad --only is a usage error", async () => {
    expect(await main(["compare-release", "--only", "nope"])).toBe(2);
  });
});

import { describe, it, expect } from "vitest";
import { runCampaign, replayCommand } from "../src/torture/campaign.js";
import { makePlan, parsePins, PlanError } from "../src/torture/plan.js";
import { runIteration } from "../src/torture/run.js";
import { releaseSafe } from "../src/torture/safety.js";
import { main } from "../src/cli/main.js";

describe("torture", () => {
  it("a bounded random campaign: no hazard, no unexplained oops, no use-after-free where the configuration is safe, " +
    "every premature free caught", () => {
    const s = runCampaign({ seed: 2026n, iterations: 16n });
    expect(s.failures.map((f) => `${replayCommand(f)}: ${f.failure!.what}`)).toEqual([]);
    expect(s.run).toBe(16);
    expect(s.safe).toBeGreaterThan(0);
    expect(s.unsafe).toBeGreaterThan(0);
    expect(s.caught).toBeGreaterThanOrEqual(s.prematureFrees);
  });

  it("unsafe configurations are caught: freeing at once under full preemption produces use-after-frees, each one reported", () => {
    const s = runCampaign({ seed: 5n, iterations: 4n, pins: parsePins("preempt=full,release=immediate,cpus=2") });
    expect(s.failures).toEqual([]);
    expect(s.unsafe).toBe(4);
    expect(s.prematureFrees).toBeGreaterThan(0);
    expect(s.caught).toBeGreaterThanOrEqual(s.prematureFrees);
  });

  it("an iteration is a pure function of seed and index: replaying it gives the same run", () => {
    const a = runIteration(makePlan(9n, 3n));
    const b = runIteration(makePlan(9n, 3n));
    expect(b.log).toEqual(a.log);
    expect(b.ticks).toBe(a.ticks);
  });

  it("shards split the iterations without overlap", () => {
    const seen: bigint[] = [];
    for (const index of [1n, 2n, 3n]) {
      runCampaign({
        seed: 1n, iterations: 6n, shard: { index, count: 3n }, pins: parsePins("cpus=1,release=kernel"),
        onResult: (r) => seen.push(r.plan.iteration),
      });
    }
    expect(seen.sort((x, y) => (x < y ? -1 : 1))).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
  });

  it("the safety rule: what each kind of 'inside' needs", () => {
    expect(releaseSafe(["rcu_tasks_rude", "rcu_tasks"], "full").safe).toBe(true);
    expect(releaseSafe(["rcu_tasks_rude", "rcu"], "lazy").why).toMatch(/lazy preemption can leave a task preempted inside/);
    expect(releaseSafe(["rcu"], "none").safe).toBe(true);
    expect(releaseSafe(["rcu_tasks_rude", "ip-check"], "full").safe).toBe(false);
    expect(releaseSafe(["rcu_tasks_rude", "stack-scan"], "full").safe).toBe(true);
    expect(releaseSafe([], "none").why).toMatch(/nothing waits/);
  });

  it("bad --config and --shard values are refused with a specific message", async () => {
    expect(() => parsePins("preempt=sometimes")).toThrow(PlanError);
    expect(() => parsePins("cpus=0")).toThrow(/cpus must be an integer from 1 to 8, got 0/);
    expect(() => parsePins("colour=red")).toThrow(/unknown key "colour"/);
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => { err.push(s); return true; }) as typeof process.stderr.write;
    try {
      expect(await main(["torture", "--shard", "3/2"])).toBe(2);
      expect(await main(["torture", "--config", "release=sometimes"])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(err.join("")).toMatch(/--shard needs I\/N with 1 <= I <= N <= 18446744073709551615, got 3\/2/);
    expect(err.join("")).toMatch(/--config unknown release policy "sometimes": use one of kernel/);
  });
});

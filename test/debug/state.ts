// Test helper: the whole machine state as one comparable string.
import { createHash } from "node:crypto";
import type { Kernel } from "../../src/kernel/kernel.js";

/** Every register of every vCPU plus a hash of guest RAM: "the whole state" for comparisons. */
export function fullState(k: Kernel): string {
  const m = k.machine;
  const regs = m.cpus.map((c) => [...Array(16).keys()].map((i) => c.reg(i).toString(16)).join(",") +
    `|${c.rip.toString(16)}|${c.rflags.toString(16)}|${c.get("clock")}|${c.get("insns")}|${c.get("halted")}`);
  return createHash("sha256").update(m.ram).digest("hex") + "\n" + regs.join("\n");
}

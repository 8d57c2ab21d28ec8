// step and next on the kernel: source-line stepping over the firmware's DWARF line table, each
// stop at the first instruction of a line (as addr2line reads the image), the other vCPUs
// running in their turns.
import { describe, it, expect } from "vitest";
import { execFileSync } from "node:child_process";
import { Kernel } from "../../src/kernel/kernel.js";
import { Engine } from "../../src/debug/engine.js";
import { Session } from "../../src/debug/commands.js";

const ELF = "build/firmware.elf";

function addr2line(addr: bigint): string {
  const out = execFileSync("addr2line", ["-e", ELF, "0x" + addr.toString(16)], { encoding: "utf8" }).trim();
  return out.replace(/^.*\/(firmware\/)/, "$1").replace(/ \(discriminator \d+\)$/, "");
}

describe("step and next in the kernel", () => {
  it("next from work_leaf's breakpoint stops at a new line's first instruction, named as addr2line names it", () => {
    const k = Kernel.boot({ cpus: 2 });
    const s = new Session(new Engine(k));
    s.execute("b work_leaf");
    s.execute("c");
    s.execute("delete");
    const start = s.engine.current.rip;
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const text = s.execute("next").text;
      const rip = s.engine.current.rip;
      const title = text.split("\n")[0];
      expect(title).toMatch(/^\w+ at firmware\/\w+\.c:\d+$|: no line number information$/);
      if (title.endsWith("no line number information")) break;
      expect(title.replace(/^\w+ at /, "")).toBe(addr2line(rip));
      expect(s.engine.target.lineRow(rip)?.addr).toBe(rip);
      seen.push(title);
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(s.engine.current.rip).not.toBe(start);
    expect(s.execute("next 0").text).toMatch(/^error: next takes/);
  });
});

import { describe, it, expect } from "vitest";
import { Machine, Exit } from "../src/machine/machine.js";

describe("smoke", () => {
  it("runs a loop", () => {
    const m = new Machine({ faultExits: true, syscallExits: true });
    // mov ecx, 1000; l: add rax, rcx; dec ecx; jnz l; syscall
    const code = [0xb9, 0xe8, 0x03, 0, 0, 0x48, 0x01, 0xc8, 0xff, 0xc9, 0x75, 0xf9, 0x0f, 0x05];
    m.writePhys(0x1000, new Uint8Array(code));
    m.cpus[0].rip = 0x1000n;
    const r = m.run(0, 100000);
    expect(r).toBe(Exit.SYSCALL);
    expect(m.cpus[0].reg(0)).toBe(500500n);
  });
});

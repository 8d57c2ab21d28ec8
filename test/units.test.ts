import { describe, it, expect } from "vitest";
import { formatHz, formatJiffies, formatTime } from "../src/machine/units.js";

describe("time for people (src/machine/units.ts)", () => {
  it("virtual time in the largest unit that keeps it at 1 or more, exactly", () => {
    expect(formatTime(0n)).toBe("0 ns");
    expect(formatTime(412n)).toBe("412 ns");
    expect(formatTime(999n)).toBe("999 ns");
    expect(formatTime(1000n)).toBe("1 us");
    expect(formatTime(830_000n)).toBe("830 us");
    expect(formatTime(441_269n)).toBe("441.269 us");
    expect(formatTime(1_250_000n)).toBe("1.25 ms");
    expect(formatTime(20_120_000)).toBe("20.12 ms");
    expect(formatTime(6_726_666n)).toBe("6.726666 ms");
    expect(formatTime(1_000_000_001n)).toBe("1.000000001 s");
    expect(formatTime(2_000_000_000n)).toBe("2 s");
    expect(formatTime(-1500n)).toBe("-1.5 us");
  });

  it("timer ticks as jiffies with HZ", () => {
    expect(formatHz(50_000)).toBe("HZ=20000");
    expect(formatHz(1_000_000)).toBe("HZ=1000");
    expect(formatHz(30_000)).toBe("HZ=33333.33");
    expect(formatJiffies(40, 20_000)).toBe("40 jiffies (800 us at HZ=50000)");
    expect(formatJiffies(1n, 50_000)).toBe("1 jiffy (50 us at HZ=20000)");
  });
});

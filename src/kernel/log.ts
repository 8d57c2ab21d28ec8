// The kernel log as `dmesg` prints it: every line stamped with the virtual time it was written,
// "[    0.012345] text". A write that does not end its line is continued by the next one.
import type { Reports } from "./state.js";

export function dmesg(r: Reports): string {
  let out = "";
  let open = false;
  r.console.forEach((text, i) => {
    const stamp = stampOf(r.consoleTimes[i] ?? 0n);
    for (const [j, line] of text.split("\n").entries()) {
      const last = j === text.split("\n").length - 1;
      if (last && line === "") break;
      if (!open) out += stamp;
      out += line;
      open = last;
      if (!last) out += "\n";
    }
  });
  return open ? out + "\n" : out;
}

/** "[    1.234567] ": seconds and microseconds of virtual time. */
export function stampOf(ns: bigint): string {
  const sec = ns / 1_000_000_000n, usec = (ns / 1000n) % 1_000_000n;
  return `[${sec.toString().padStart(5)}.${usec.toString().padStart(6, "0")}] `;
}

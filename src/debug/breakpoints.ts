// Breakpoints, watchpoints and event breakpoints: the table `info breakpoints` lists.
import type { SymbolTable } from "../machine/symbols.js";
import { hex } from "./format.js";

export type BreakKind = "break" | "watch" | "rwatch" | "awatch" | "poke" | "gp" | "hazard";

export interface Breakpoint {
  id: number;
  kind: BreakKind;
  enabled: boolean;
  /** tbreak: deleted when it stops the machine. */
  temporary: boolean;
  hits: number;
  /** Code or data address (break, watchpoints). */
  addr?: bigint;
  /** Bytes watched. */
  size?: number;
  /** What the user wrote (shown by info breakpoints). */
  what: string;
  cond?: string;
  /** Only this vCPU (the debugger's own stops for finish, until, ni). */
  cpu?: number;
  /** Not listed: the debugger's own (finish, until, advance, ni). */
  internal?: boolean;
  /** watch/awatch: the value last seen. */
  last?: bigint | null;
  /** gp: flavour name and state to stop in (either may be absent). */
  flavour?: string;
  state?: string;
  wasIn?: boolean;
}

const TYPE: Record<BreakKind, string> = {
  break: "breakpoint", watch: "watchpoint", rwatch: "read watchpoint", awatch: "acc watchpoint",
  poke: "poke", gp: "grace period", hazard: "hazard",
};

export function breakpointTable(list: readonly Breakpoint[], symbols: SymbolTable): string {
  const shown = list.filter((b) => !b.internal);
  if (shown.length === 0) return "No breakpoints or watchpoints.";
  const lines = ["Num     Type            Disp Enb Address            What"];
  for (const b of shown) {
    const addr = b.kind === "break" && b.addr !== undefined ? hex(b.addr).padEnd(18) : "".padEnd(18);
    const what = b.kind === "break" && b.addr !== undefined ? `<${symbols.format(b.addr)}>` : b.what;
    const disp = b.temporary ? "del" : "keep";
    lines.push(`${String(b.id).padEnd(7)} ${TYPE[b.kind].padEnd(15)} ${disp.padEnd(4)} ${b.enabled ? "y" : "n"}   ${addr} ${what}`);
    if (b.cond) lines.push(`\tstop only if ${b.cond}`);
    if (b.hits > 0) lines.push(`\tbreakpoint already hit ${b.hits} time${b.hits === 1 ? "" : "s"}`);
  }
  return lines.join("\n");
}

/** "Breakpoint 2", "Temporary breakpoint 3", "Watchpoint 4"... as stop messages start. */
export function stopTitle(b: Breakpoint): string {
  const t = TYPE[b.kind];
  const name = t[0].toUpperCase() + t.slice(1);
  return `${b.temporary ? "Temporary " + t : name} ${b.id}`;
}

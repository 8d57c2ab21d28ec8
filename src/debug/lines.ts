// step and next: source-line stepping over the image's DWARF line table (the firmware and
// programs built with -g). They are chains of one-instruction plans (si, or ni over a call),
// each checking where it landed, so a breakpoint, watchpoint or event on the way stops them as
// it stops si and ni, and every stop is a point the schedule would have reached anyway.
//
// Where they stop (gdb's rule): at the first instruction of a line table row whose line differs
// from the starting one. Landing in the middle of a row (returning into the caller's line after
// its call) keeps stepping. A function's first row is its prologue: step into a function stops
// at the line after it. step steps over calls into code with no line information; arriving in
// such code any other way (a return to a caller without lines, an interrupt) stops there.
import type { CpuState } from "../machine/machine.js";
import { DebugError, type Engine, type Plan } from "./engine.js";
import { finishPlan, isCall, nextPlan, stepPlan } from "./stepping.js";

/** The most instructions one step or next runs one at a time before giving up (a line that loops on itself). */
export const MAX_LINE_STEPS = 1_000_000;

interface Origin { key: string; cpu: number; steps: number }

/** step N (over = false) or next N (over = true) on the selected vCPU. */
export function linePlan(e: Engine, over: boolean, n: number): Plan {
  const c = e.current;
  const row = e.target.lineRow(c.rip);
  if (!row) {
    const where = e.symbols.format(c.rip);
    throw new DebugError(`no line number information at ${where}: use ${over ? "ni" : "si"} or finish`);
  }
  const origin: Origin = { key: `${row.file}:${row.line}`, cpu: e.cpu, steps: 0 };
  return oneInsn(e, over, origin, n);
}

function oneInsn(e: Engine, over: boolean, o: Origin, n: number): Plan {
  const c = e.machine.cpus[o.cpu];
  const call = isCall(e, c);
  const p = over ? nextPlan(e) : stepPlan(e, 1);
  return {
    ...p,
    then: () => {
      // (Titles, not errors: the run is under way, and it stops here with the reason.)
      if (++o.steps > MAX_LINE_STEPS) return `${over ? "next" : "step"}: ${MAX_LINE_STEPS} instructions and still on ${o.key}`;
      // step entered a function with no lines (a library routine): run it to its return.
      if (!over && call && !e.target.lineRow(c.rip)) {
        try { return { ...finishPlan(e), then: () => landed(e, over, o, n) }; } catch (err) {
          if (err instanceof DebugError) return err.message;
          throw err;
        }
      }
      return landed(e, over, o, n);
    },
  };
}

/** After one instruction: the plan that goes on, or the stop's title ("main at hello.c:7"). */
function landed(e: Engine, over: boolean, o: Origin, n: number): Plan | string {
  const c = e.machine.cpus[o.cpu];
  // Out of the lines altogether (returned to a caller with none, an interrupt's entry code): stop there, as gdb does.
  if (!e.target.lineRow(c.rip)) return `${e.symbols.format(c.rip)}: no line number information`;
  if (!atNewLine(e, c, o.key)) return oneInsn(e, over, o, n);
  const r = e.target.lineRow(c.rip)!;
  if (n <= 1) return `${e.symbols.find(c.rip)?.name ?? "??"} at ${r.file}:${r.line}`;
  return oneInsn(e, over, { key: `${r.file}:${r.line}`, cpu: o.cpu, steps: 0 }, n - 1);
}

function atNewLine(e: Engine, c: CpuState, key: string): boolean {
  const r = e.target.lineRow(c.rip);
  if (!r || r.addr !== c.rip || `${r.file}:${r.line}` === key) return false;
  // A function's entry is its prologue's row: go on to the body's first line.
  return e.symbols.find(c.rip)?.addr !== c.rip;
}

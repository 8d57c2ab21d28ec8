// The command table: gdb's spellings, one small handler per command family. A handler returns
// text, or a run for the front end to drive (so Ctrl-C can stop it). Every handler checks its
// arguments before it changes anything: a bad command prints one line and changes nothing.
import { linePlan } from "./lines.js";
import { InputError, readInputText } from "../io.js";
import { DURATION_RULE, parseDuration } from "../numbers.js";
import { LIMITS, numberArg } from "./arguments.js";
import { formatTime } from "../machine/units.js";
import { DebugError, type Engine, type Stop } from "./engine.js";
import { ExprError } from "./expressions.js";
import { breakpointTable, type Breakpoint } from "./breakpoints.js";
import { eflagsTable, registersText, hex, REGISTER_NAME_WIDTH } from "./format.js";
import { stepPlan, nextPlan, nextPlans, finishPlan, advancePlan, continuePlan, runTimePlan } from "./stepping.js";
import { setCommand } from "./writes.js";
import { ReverseRun } from "./reverse.js";
import {
  infoCpus, infoTasks, infoStacks, pageWalk, disasmLines, disassembleFunction, formatValue, type Unit,
} from "./views.js";
import { ftraceCommand, pokeLog, trampolines, rcuView, recursionView, type FtraceSettings } from "./kernelviews.js";
import { registerValue } from "./engine.js";
import { parseFormat, splitFmt, examineCommand, valueText, print } from "./valuecmds.js";
import { insmodCommand, lsmodCommand, rmmodCommand } from "./modules.js";
import { FRAME_COMMANDS, frameEval, infoFrameText, infoThreads, selectedPc } from "./framecmds.js";
import { begin, collect, runUser, userHelp } from "./usercmds.js";
import type { Collecting, CommandSpec, FrameSelection, Result, UserCommand } from "./host.js";
import { echo, printf } from "./printing.js";
import { gpStates } from "./gpstates.js";

export type { Result };
export type Command = CommandSpec<Session>;

interface Display { id: number; fmt: string; expr: string }

export class Session {
  readonly displays: Display[] = [];
  private nextDisplay = 1;
  readonly history: string[] = [];
  lastLine = "";
  readonly ftrace: FtraceSettings = { filter: "" };
  /** Values printed so far ($1, $2...). */
  values = 0;
  /** Files being sourced (to refuse a file that sources itself). */
  readonly sourcing: string[] = [];
  /**
   * Runs are driven from a terminal, where Ctrl-C can stop them (set by the interactive front
   * end; batch mode, `source` and execute() run synchronously and cannot be interrupted).
   */
  interruptible = false;
  /** Commands that failed (printed an `error:` line) so far; batch mode's exit status. */
  errors = 0;
  /** The frame selected by frame, up or down (framecmds.ts). */
  frameSelection: FrameSelection | null = null;
  readonly userCommands = new Map<string, UserCommand>();
  /** A define or document block being typed, until its `end`. */
  collecting: Collecting | null = null;
  /** How deeply user commands are running, and the body lines the typed command may still run. */
  userDepth = 0;
  userLinesLeft = 0;
  /** Where a bare `x` (or an empty line after x) continues, and in which format. */
  nextExamine: { addr: bigint; n: number; f: string; u: Unit } | null = null;

  constructor(readonly engine: Engine) {}

  evalExpr(expr: string): bigint {
    return frameEval(this, expr);
  }

  addDisplay(fmt: string, expr: string): Display {
    const d = { id: this.nextDisplay++, fmt, expr };
    this.displays.push(d);
    return d;
  }

  /** The text shown after every stop: the displays, in order. */
  showDisplays(): string {
    return this.displays.map((d) => showDisplay(this, d)).join("\n");
  }

  /** Text for a finished run: why and where it stopped, then the displays. */
  stopText(s: Stop): string {
    const d = this.showDisplays();
    return d ? `${s.text}\n${d}` : s.text;
  }

  /**
   * Runs one line synchronously (batch mode, `source`, tests). An empty line repeats the last
   * command, as gdb does.
   */
  execute(raw: string): { text: string; quit?: boolean } {
    const r = this.dispatch(raw);
    if (typeof r === "string") return { text: r };
    if ("quit" in r) return { text: "", quit: true };
    if ("stop" in r) return { text: this.stopText(r.stop) };
    if ("reverse" in r) {
      try { return { text: this.stopText(r.reverse.finish()) }; } catch (e) {
        if (e instanceof DebugError) return { text: this.fail(e.message) };
        throw e;
      }
    }
    const stop = this.stopText(this.engine.run(r.run));
    return { text: r.note ? `${r.note}\n${stop}` : stop };
  }

  /** Parses and runs one line's handler; errors become one line of text. */
  dispatch(raw: string): Result {
    if (this.collecting) {
      try { return collect(this, raw); } catch (e) {
        if (e instanceof DebugError) return this.fail(e.message);
        throw e;
      }
    }
    let line = raw.trim();
    if (line.startsWith("#")) return "";
    if (line === "") {
      if (!this.lastLine) return "";
      line = this.lastLine;
    } else {
      this.history.push(line);
    }
    const m = /^([A-Za-z_][\w-]*)(\/\w+)?\s*(.*)$/.exec(line);
    if (!m) return this.fail(`cannot parse "${line}"`);
    const cmd = findCommand(m[1]);
    const user = cmd ? undefined : this.userCommands.get(m[1]);
    if (!cmd && !user) return this.fail(`undefined command "${m[1]}"; try "help"`);
    this.lastLine = cmd && REPEATABLE.has(cmd.names[0]) ? line : "";
    try {
      if (user) return runUser(this, user, line.slice(m[1].length).trim());
      const r = cmd!.run(this, cmd!.raw ? line.slice(m[1].length).trim() : ((m[2] ?? "") + (m[2] && m[3] ? " " : "") + m[3]).trim());
      // A program that ended runs no further (gdb: "The program is not being run.").
      const ended = typeof r === "object" && "run" in r ? this.engine.target.finished() : null;
      return ended === null ? r : this.fail(ended);
    } catch (e) {
      if (e instanceof DebugError || e instanceof ExprError) return this.fail(e.message);
      throw e;
    }
  }

  /** An error line, counted (batch mode's exit status). */
  fail(message: string): string {
    this.errors++;
    return `error: ${message}`;
  }
}

/** Commands an empty line repeats. */
const REPEATABLE = new Set(["stepi", "nexti", "step", "next", "continue", "reverse-stepi", "x"]);

function showDisplay(s: Session, d: Display): string {
  try {
    if (d.fmt === "i") return `${d.id}: x/i ${d.expr}\n${disasmLines(s.engine, s.engine.eval(d.expr), 1)}`;
    return `${d.id}: ${d.expr} = ${formatValue(s.engine.eval(d.expr), d.fmt || "x", 8, s.engine)}`;
  } catch (e) {
    return `${d.id}: ${d.expr} = <error: ${(e as Error).message}>`;
  }
}

function count(arg: string, what: string): number {
  return numberArg(arg, `${what} takes`, 1, LIMITS.steps, 1);
}

/** Lines for step and next: each may take many instructions, so fewer are allowed than for si. */
function lineCount(arg: string, what: string): number {
  return numberArg(arg, `${what} takes`, 1, 1_000_000, 1);
}

function duration(a: string): bigint {
  const d = parseDuration(a);
  if (d === undefined) throw new DebugError(`run needs ${DURATION_RULE}, got ${a || "nothing"}`);
  return d;
}

function noArgs(arg: string, what: string): void {
  if (arg) throw new DebugError(`${what} takes no argument, got "${arg}"`);
}

/** b SYM | b *ADDR, optionally "if EXPR". */
function breakSpec(s: Session, arg: string, temporary: boolean): string {
  const m = /^(\S+)(?:\s+if\s+(.+))?$/.exec(arg);
  if (!m) throw new DebugError("usage: break SYM|*ADDR [if EXPR]");
  const [, where, cond] = m;
  const e = s.engine;
  const addr = where.startsWith("*") ? e.eval(where.slice(1)) : e.symbols.get(where)?.addr;
  if (addr === undefined) throw new DebugError(`no symbol "${where}" (use *ADDR for an address)`);
  if (cond) e.checkExpr(cond); // a bad condition is refused now, not at the first hit
  const b = e.addBreakpoint({ kind: "break", temporary, addr, what: `${e.symbols.format(addr)}`, cond });
  const title = temporary ? "Temporary breakpoint" : "Breakpoint";
  return `${title} ${b.id} at ${hex(addr)} <${e.symbols.format(addr)}>${cond ? ` if ${cond}` : ""}`;
}

function watchSpec(s: Session, arg: string, kind: "watch" | "rwatch" | "awatch"): string {
  const e = s.engine;
  if (!arg) throw new DebugError(`usage: ${kind} SYM|*ADDR`);
  let addr: bigint, size = 8;
  if (arg.startsWith("*")) addr = e.eval(arg.slice(1));
  else {
    const sym = e.symbols.get(arg);
    if (!sym) throw new DebugError(`no symbol "${arg}" (use *ADDR for an address)`);
    addr = sym.addr;
    if ([1n, 2n, 4n].includes(sym.size)) size = Number(sym.size);
  }
  if (e.read(addr, size) === null) throw new DebugError(`cannot access memory at address ${hex(addr)}`);
  const b = e.addBreakpoint({ kind, temporary: false, addr, size, what: arg });
  const title = { watch: "Watchpoint", rwatch: "Read watchpoint", awatch: "Access watchpoint" }[kind];
  return `${title} ${b.id}: ${arg} (${size} bytes at ${hex(addr)}; the machine single-steps while it is set)`;
}

function breakOn(s: Session, arg: string): string {
  const [what, ...rest] = arg.split(/\s+/).filter(Boolean);
  const e = s.engine;
  if (what === "poke" || what === "hazard") {
    if (rest.length) throw new DebugError(`break-on ${what} takes nothing more`);
    const b = e.addBreakpoint({
      kind: what, temporary: false, what: what === "poke" ? "any text poke batch" : "any cross-modifying-code hazard",
    });
    return `Breakpoint ${b.id}: ${b.what}`;
  }
  if (what === "gp") {
    const [flavour, state] = rest;
    const names = e.kernel.rcu.flavours.map((f) => f.name);
    if (flavour && !names.includes(flavour)) throw new DebugError(`no RCU flavour "${flavour}" (one of ${names.join(", ")})`);
    if (rest.length > 2) throw new DebugError("usage: break-on gp [FLAVOUR [STATE]]");
    if (state) {
      // A state the flavour never enters would make a breakpoint that can never fire.
      const states = gpStates(e.kernel.rcu.flavours.find((f) => f.name === flavour)!);
      if (!states.includes(state)) {
        throw new DebugError(`${flavour} has no state "${state}" (the states it waits in: ${states.join(", ")})`);
      }
    }
    const what = state ? `${flavour} enters state ${state}`
      : flavour ? `${flavour} grace period starts or ends` : "any grace period starts or ends";
    const b = e.addBreakpoint({ kind: "gp", temporary: false, flavour, state, what });
    return `Breakpoint ${b.id}: ${what}`;
  }
  throw new DebugError("usage: break-on poke | hazard | gp [FLAVOUR [STATE]]");
}

function breakpointIds(s: Session, arg: string): Breakpoint[] {
  const e = s.engine;
  if (!arg) return e.breakpoints.filter((b) => !b.internal);
  return arg.split(/\s+/).map((x) => e.findBreakpoint(numberArg(x, "a breakpoint number must be", 1, LIMITS.id)));
}

/**
 * c with nothing that can stop it would run forever where no Ctrl-C can reach it (a script, a
 * pipe, `source`): refused, so a transcript never hangs. gdb would wait for the program to
 * exit; this machine's workload never does.
 */
function mayContinue(s: Session): void {
  // A program ends by itself (and a runaway one meets the batch limit); a kernel runs forever.
  if (s.interruptible || s.engine.canStop() || !s.engine.target.kernel) return;
  throw new DebugError("c: nothing to stop at in batch mode (no breakpoint, watchpoint or event breakpoint is enabled); use run TIME");
}

function info(s: Session, arg: string): string {
  const [what, ...rest] = arg.split(/\s+/);
  const e = s.engine;
  switch (what) {
    case "registers": case "reg": case "r": {
      if (rest.length === 0) return registersText(e.current, e.symbols);
      return rest.map((r) => {
        const v = registerValue(e.current, r.replace(/^\$/, "").toLowerCase());
        if (v === undefined) throw new DebugError(`no register ${r}`);
        return `${r.replace(/^\$/, "").padEnd(REGISTER_NAME_WIDTH)}${hex(v)}`;
      }).join("\n");
    }
    case "eflags": return eflagsTable(e.current.rflags);
    case "breakpoints": case "break": case "br": case "b": case "watchpoints": return breakpointTable(e.breakpoints, e.symbols);
    case "frame": case "f": return infoFrameText(s);
    case "threads": return infoThreads(e);
    case "cpus": return infoCpus(e);
    case "tasks": return infoTasks(e);
    case "stacks": return infoStacks(e);
    case "display":
      if (!s.displays.length) return "There are no auto-display expressions now.";
      return s.displays.map((d) => `${d.id}: /${d.fmt} ${d.expr}`).join("\n");
    case "snapshots":
      return [...e.snapshots.entries()]
        .map(([n, c]) => `${n}: position ${c.position}, clocks ${c.clocks.map(formatTime).join(", ")}`)
        .join("\n") || "No snapshots.";
    case "symbol": {
      const v = e.eval(rest.join(" "));
      return `${hex(v)} is ${e.symbols.find(v) ? e.symbols.format(v) : "in no symbol"}`;
    }
  }
  throw new DebugError("info: expected registers, eflags, breakpoints, frame, threads, cpus, tasks, stacks, display, snapshots " +
    `or symbol, got "${arg}"`);
}

/** undisplay [N...]: every number is checked before any display is removed. */
function undisplay(s: Session, arg: string): string {
  const ids = arg ? arg.split(/\s+/).map((x) => numberArg(x, "a display number must be", 1, LIMITS.id)) : s.displays.map((d) => d.id);
  for (const id of ids) if (!s.displays.some((d) => d.id === id)) throw new DebugError(`no display number ${id}`);
  s.displays.splice(0, s.displays.length, ...s.displays.filter((d) => !ids.includes(d.id)));
  return "";
}

function source(s: Session, path: string): string {
  if (!path) throw new DebugError("usage: source FILE");
  if (s.sourcing.includes(path)) throw new DebugError(`${path} is already being sourced`);
  let text: string;
  try { text = readInputText(path, "commands"); } catch (e) {
    if (e instanceof InputError) throw new DebugError(e.message);
    throw e;
  }
  s.sourcing.push(path);
  const out: string[] = [];
  const interruptible = s.interruptible;
  s.interruptible = false; // sourced commands run synchronously
  try {
    for (const line of text.split("\n")) {
      if (line.trim() === "" || line.trim().startsWith("#")) continue;
      const r = s.execute(line);
      if (r.text) out.push(r.text);
      if (r.quit) break;
    }
  } finally { s.sourcing.pop(); s.interruptible = interruptible; }
  if (s.collecting) {
    // A define or document block must end in the file that began it.
    out.push(`error: ${path} ended inside the definition of "${s.collecting.name}" (no "end"); it was dropped`);
    s.collecting = null;
    s.errors++;
  }
  return out.join("\n");
}

export const COMMANDS: Command[] = [
  { names: ["stepi", "si"], usage: "si [N]",
    help: "Execute N instructions (1 to 1000000000) on the selected vCPU (others run in their turns).",
    run: (s, a) => ({ run: stepPlan(s.engine, count(a, "si")) }) },
  { names: ["nexti", "ni"], usage: "ni [N]", help: "Like si, but a call is run until it returns.",
    run: (s, a) => ({ run: nextPlans(s.engine, count(a, "ni")) }) },
  { names: ["step", "s"], usage: "step [N]",
    help: "Run to the start of the next source line N times, into calls (needs the image's line table: -g).",
    run: (s, a) => ({ run: linePlan(s.engine, false, lineCount(a, "step")) }) },
  { names: ["next", "n"], usage: "next [N]", help: "Like step, but calls run until they return.",
    run: (s, a) => ({ run: linePlan(s.engine, true, lineCount(a, "next")) }) },
  { names: ["continue", "c"], usage: "c",
    help: "Run until a breakpoint, watchpoint or event breakpoint, a machine stop, or Ctrl-C " +
      "(refused in batch mode with nothing to stop at).",
    run: (s, a) => { noArgs(a, "continue"); mayContinue(s); return { run: continuePlan(), note: "Continuing." }; } },
  { names: ["finish"], usage: "finish", help: "Run until the current function returns (frame pointers).",
    run: (s, a) => { noArgs(a, "finish"); return { run: finishPlan(s.engine) }; } },
  { names: ["until", "u"], usage: "until [ADDR]", help: "Run until the selected vCPU reaches ADDR (without ADDR: like ni).",
    run: (s, a) => ({ run: a ? advancePlan(s.engine, s.engine.eval(a.replace(/^\*/, ""))) : nextPlan(s.engine) }) },
  { names: ["advance"], usage: "advance ADDR", help: "Run until the selected vCPU reaches ADDR.",
    run: (s, a) => {
      if (!a) throw new DebugError("usage: advance ADDR");
      return { run: advancePlan(s.engine, s.engine.eval(a.replace(/^\*/, ""))) };
    },
  },
  { names: ["run", "r"], usage: "run TIME",
    help: "Run for TIME of virtual time (50ms, 200us, 1s, or a plain number of ns); stops early like c.",
    run: (s, a) => ({ run: runTimePlan(s.engine, duration(a)) }) },
  { names: ["reverse-stepi", "rsi"], usage: "rsi",
    help: "Go back to just before the selected vCPU's previous instruction (replayed from a checkpoint).",
    run: (s, a) => { noArgs(a, "rsi"); return { reverse: new ReverseRun(s.engine, "step") }; } },
  { names: ["reverse-continue", "rc"], usage: "rc", help: "Go back to the latest breakpoint hit before now.",
    run: (s, a) => { noArgs(a, "rc"); return { reverse: new ReverseRun(s.engine, "continue") }; } },
  { names: ["break", "b"], usage: "b SYM|*ADDR [if EXPR]",
    help: "Stop before the instruction at SYM or ADDR executes (guest text is not changed).",
    run: (s, a) => breakSpec(s, a, false) },
  { names: ["tbreak"], usage: "tbreak SYM|*ADDR [if EXPR]", help: "A breakpoint deleted when it stops the machine.",
    run: (s, a) => breakSpec(s, a, true) },
  { names: ["watch"], usage: "watch SYM|*ADDR", help: "Stop when the value there changes.", run: (s, a) => watchSpec(s, a, "watch") },
  { names: ["rwatch"], usage: "rwatch SYM|*ADDR", help: "Stop when an instruction reads it.", run: (s, a) => watchSpec(s, a, "rwatch") },
  { names: ["awatch"], usage: "awatch SYM|*ADDR", help: "Stop when it is read or changed.", run: (s, a) => watchSpec(s, a, "awatch") },
  { names: ["break-on"], usage: "break-on poke | hazard | gp [FLAVOUR [STATE]]",
    help: "Stop on a text poke batch, a cross-modifying-code hazard, or a grace-period event or state.",
    run: (s, a) => breakOn(s, a) },
  { names: ["delete", "d"], usage: "delete [N...]", help: "Delete breakpoints (all without N).",
    run: (s, a) => { const bs = breakpointIds(s, a); bs.forEach((b) => s.engine.removeBreakpoint(b)); return ""; } },
  { names: ["disable"], usage: "disable [N...]", help: "Disable breakpoints.",
    run: (s, a) => { breakpointIds(s, a).forEach((b) => (b.enabled = false)); return ""; } },
  { names: ["enable"], usage: "enable [N...]", help: "Enable breakpoints.",
    run: (s, a) => { breakpointIds(s, a).forEach((b) => (b.enabled = true)); return ""; } },
  { names: ["info", "i"], usage: "info registers|eflags|break|frame|threads|cpus|tasks|stacks|display|snapshots|symbol",
    help: "Show state.",
    run: (s, a) => info(s, a) },
  { names: ["print", "p"], usage: "p[/FMT] EXPR",
    help: "Evaluate: numbers, $registers, symbols, &sym, *ADDR (8 bytes), sym[i] (8-byte elements unless cast: " +
      "((u32*)sym)[i]), sizeof(TYPE) (C's x86-64 sizes), casts, C operators on uint64_t " +
      "(shifts of 64 or more and division by 0 are errors).",
    run: (s, a) => print(s, a) },
  { names: ["output"], usage: "output[/FMT] EXPR", help: "The value of EXPR alone, as p prints it (no $N = ).",
    run: (s, a) => valueText(s, a, "output") },
  { names: ["echo"], usage: "echo TEXT", raw: true, help: "Print TEXT; C escapes (\\n \\t \\\\ \\\" \\033...) are understood.",
    run: (_s, a) => echo(a) },
  { names: ["printf"], usage: 'printf "FMT", EXPR...', raw: true,
    help: "C's printf: %d %i %u %x %X %o %c %s %p %% with flags, width, precision and hh h l ll z (at most 32 values).",
    run: (s, a) => printf(s.engine, a, (x) => s.evalExpr(x)) },
  { names: ["set"], usage: "set $REG = EXPR | set {u64}ADDR = EXPR",
    help: "Change a register of the selected vCPU, or memory: {u8|u16|u32|u64}ADDR or var *(u64*)ADDR.",
    run: (s, a) => setCommand(s.engine, a) },
  { names: ["x"], usage: "x/Nfu [ADDR]",
    help: "Examine memory: N units (b h w g) in format f (x d u o t c a s; a: 8 bytes, symbolized), letters in either order, " +
      "or N instructions (x/Ni); without ADDR, or on an empty line, it goes on from the last x.",
    run: (s, a) => examineCommand(s, a) },
  { names: ["display"], usage: "display[/FMT] EXPR", help: "Show EXPR after every stop (display/i $pc: the next instruction).",
    run: (s, a) => {
      if (!a) return s.showDisplays();
      const [fmt, expr] = splitFmt(a);
      const f = parseFormat(fmt, { n: 1, f: "", u: "g" }, "display");
      s.engine.eval(expr);
      return showDisplay(s, s.addDisplay(f.f, expr));
    },
  },
  { names: ["undisplay"], usage: "undisplay [N...]", help: "Stop showing displays (all without N).",
    run: (s, a) => undisplay(s, a) },
  { names: ["disassemble", "disas"], usage: "disassemble [SYM|ADDR]",
    help: "Disassemble a function (GAS syntax): the selected frame's, or SYM's; => marks $pc.",
    run: (s, a) => disassembleFunction(s.engine, a, selectedPc(s)) },
  ...FRAME_COMMANDS,
  { names: ["cpu"], usage: "cpu N", help: "Select vCPU N.",
    run: (s, a) => { s.engine.cpu = numberArg(a, "cpu takes", 0, s.engine.machine.ncpus - 1); return s.engine.where(); } },
  { names: ["page"], usage: "page VA", help: "Walk the selected vCPU's page tables for VA.",
    run: (s, a) => { if (!a) throw new DebugError("usage: page VA"); return pageWalk(s.engine, s.engine.eval(a)); } },
  { names: ["ftrace"], usage: "ftrace filter GLOBS | on | off | enabled_functions | trace [N]",
    help: "The function tracer and tracefs views.",
    run: (s, a) => ftraceCommand(s.engine, s.ftrace, a.split(/\s+/).filter(Boolean)) },
  { names: ["poke"], usage: "poke log [N]", help: "The text-poke log (last N lines, default 40).",
    run: (s, a) => {
      const [w, n, ...more] = a.split(/\s+/);
      if (w !== "log" || more.length > 0) throw new DebugError("usage: poke log [N]");
      return pokeLog(s.engine, numberArg(n ?? "", "poke log takes", 1, LIMITS.lines, 40));
    },
  },
  { names: ["tramp"], usage: "tramp", help: "Dynamic trampolines, their state and who holds them.",
    run: (s, a) => { noArgs(a, "tramp"); return trampolines(s.engine); } },
  { names: ["recursion"], usage: "recursion [N]",
    help: "The recursion guard: scheme, callback calls skipped, the N sites that skipped most (default 10).",
    run: (s, a) => recursionView(s.engine, numberArg(a, "recursion takes", 1, LIMITS.lines, 10)) },
  { names: ["rcu"], usage: "rcu", help: "Each RCU flavour's state and the releases waiting for them.",
    run: (s, a) => { noArgs(a, "rcu"); return rcuView(s.engine); } },
  { names: ["insmod"], usage: "insmod FILE [PARAM=VALUE]...",
    help: "Load a module (tramplab build-module) now: the machine runs while init_module does; prints what the kernel logged.",
    run: (s, a) => insmodCommand(s.engine, a) },
  { names: ["rmmod"], usage: "rmmod NAME",
    help: "Unload a module now: cleanup_module runs, then its memory is freed after synchronize_rcu().",
    run: (s, a) => rmmodCommand(s.engine, a) },
  { names: ["lsmod"], usage: "lsmod", help: "The modules loaded now.",
    run: (s, a) => { noArgs(a, "lsmod"); return lsmodCommand(s.engine); } },
  { names: ["snapshot"], usage: "snapshot NAME", help: "Save the whole state under NAME.",
    run: (s, a) => {
      if (!/^\w+$/.test(a)) throw new DebugError("usage: snapshot NAME (letters, digits, _)");
      s.engine.snapshot(a);
      return `snapshot ${a} at virtual time ${formatTime(s.engine.machine.time)}`;
    },
  },
  { names: ["restore"], usage: "restore NAME", help: "Go back (or forward) to a saved snapshot.",
    run: (s, a) => { s.engine.restoreSnapshot(a); return `restored ${a}\n${s.engine.where()}`; } },
  { names: ["define"], usage: "define NAME", raw: true,
    help: "Define a command from the lines up to `end` ($argc, $arg0..$arg9); calls nest at most 16 deep.",
    run: (s, a) => begin(s, "define", a, findCommand(a) !== undefined) },
  { names: ["document"], usage: "document NAME", raw: true, help: "Give a user command the help text up to `end`.",
    run: (s, a) => begin(s, "document", a, findCommand(a) !== undefined) },
  { names: ["source"], usage: "source FILE", help: "Run the commands in FILE.", run: (s, a) => source(s, a) },
  { names: ["history"], usage: "history", help: "The commands typed so far.",
    run: (s) => s.history.map((l, i) => `${String(i + 1).padStart(4)}  ${l}`).join("\n") },
  { names: ["help", "h"], usage: "help [CMD|all|user-defined]", help: "List commands, or describe one.", run: (s, a) => help(s, a) },
  { names: ["quit", "q"], usage: "quit", help: "Leave the debugger.", run: () => ({ quit: true }) },
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.names.includes(name));
}

function help(s: Session, arg: string): string {
  if (!arg) return COMMANDS.map((c) => `${c.usage.padEnd(48)} ${c.help}`).join("\n");
  if (arg === "all") {
    // gdb's `help all`: every command with its aliases, then the user's.
    const all = COMMANDS.map((c) => `${c.names.join(", ")} -- ${c.help}`);
    return [...all, "", "User-defined commands:", userHelp(s)].join("\n");
  }
  if (arg === "user-defined") return userHelp(s);
  if (s.userCommands.has(arg) && !findCommand(arg)) return userHelp(s, arg);
  const c = findCommand(arg);
  if (!c) throw new DebugError(`no command "${arg}"`);
  return `${c.usage}\n${c.help}${c.names.length > 1 ? `\nAliases: ${c.names.slice(1).join(", ")}` : ""}`;
}

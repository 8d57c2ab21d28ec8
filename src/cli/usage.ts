// Usage texts made from the options table (src/kernel/options.ts): each option's line, its
// range, choices and default come from the table; the prose around them is here.
import { formatTime } from "../machine/units.js";
import { fillText, OPTIONS, type Option } from "../kernel/options.js";

/**
 * Words wrapped at `width` columns: the first line is `first` and the words that fit after it
 * (a space between, unless `first` is only spaces), the others start with `indent` spaces.
 */
export function wrap(words: string[], first: string, indent: number, width: number): string {
  const lines = [first];
  for (const w of words) {
    const line = lines[lines.length - 1];
    const blank = line.trim() === "";
    if (!blank && line.length + 1 + w.length > width) lines.push(" ".repeat(indent) + w);
    else lines[lines.length - 1] = blank ? line + w : `${line} ${w}`;
  }
  return lines.join("\n");
}

/** A value as typed on the command line: a duration as "50ms", anything else as itself. */
function typed(o: Option, v: unknown): string {
  if (o.type.kind !== "duration") return String(v);
  return formatTime(v as bigint).replace(" ", "");
}

/** An option's help with {range}, {choices} and {default} filled in the command line's spelling. */
function helpText(o: Option): string {
  const t = o.type;
  return fillText(o.cli!.help, {
    range: t.kind === "int" ? `${t.min} to ${t.max}` : "",
    choices: t.kind === "enum" ? t.choices.join(" | ") : "",
    default: o.default === undefined ? "" : typed(o, o.default),
  });
}

/** "--cpus N" */
function flagWithMetavar(o: Option, metavar = o.cli?.metavar): string {
  return metavar ? `--${o.key} ${metavar}` : `--${o.key}`;
}

/** An option's lines in a usage text: the flag, then its help from column 23, wrapped at 100. */
function optionLines(o: Option): string {
  const flag = `  ${flagWithMetavar(o)}`;
  return wrap(helpText(o).split(" "), flag.padEnd(22), 23, 100);
}

/** How `tramplab run --help` lays the options out: by what they apply to, in this order. */
export const RUN_SECTIONS: { title: string; keys: string[] }[] = [
  {
    title: "Options for the built-in kernel:",
    keys: ["kernel", "cpus", "preempt", "kconfig", "seed", "time", "tracer", "filter", "trace-lines", "release", "recursion", "idle",
      "image", "insmod", "rmmod", "gdb", "gdb-wait"],
  },
  { title: "Options for a program:", keys: ["max-insns", "stats"] },
  { title: "For both:", keys: ["cpu-vendor"] },
];

/** The option whose flag is --KEY. */
function byKey(key: string): Option {
  const o = OPTIONS.find((x) => x.key === key && x.cli);
  if (!o) throw new Error(`RUN_SECTIONS: no option has the flag --${key}`);
  return o;
}

function runUsage(): string {
  const sectioned = (n: number) => RUN_SECTIONS[n].keys.map(byKey);
  const programFlags = [...sectioned(1), ...sectioned(2)].map((o) => `[${flagWithMetavar(o)}]`).join(" ");
  return `usage: tramplab run [OPTIONS]
       tramplab run ${programFlags} PROGRAM [ARGS...]

Without PROGRAM, boots the built-in guest kernel and runs its workload; with PROGRAM, runs a
static x86-64 Linux program in user mode (everything after PROGRAM is its arguments).

${RUN_SECTIONS.map((s, n) => [s.title, ...sectioned(n).map(optionLines)].join("\n")).join("\n")}
Options take their value as --cpus 2 or --cpus=2.`;
}

export const RUN_USAGE = runUsage();

/** The options debug shares with run, in run's order. */
export function debugFlags(): Option[] {
  return RUN_SECTIONS.flatMap((s) => s.keys.map(byKey)).filter((o) => o.cli?.debug);
}

function debugUsage(): string {
  const flags = debugFlags();
  const synopsis = [...flags.map((o) => `[${flagWithMetavar(o, o.cli!.synopsis ?? o.cli!.metavar)}]`), "[-x FILE]", "[--batch]",
    "[--gdb [HOST:]PORT]", "[--gdb-wait]"];
  const shared = `${flags.map((o) => `--${o.key}`).join(", ")}: as for tramplab run (run --help)`;
  return `${wrap(synopsis, "usage: tramplab debug [IMAGE | PROGRAM [ARGS...]]", 22, 100)}
  IMAGE       a firmware ELF built like firmware/ (default: the built-in kernel)
  PROGRAM     a static x86-64 program, run as tramplab run runs it (arguments starting with
              - go after --); of the options, only --cpu-vendor applies
${wrap(shared.split(" "), "  ", 14, 100)}
  -x FILE     run the commands in FILE first (also --command FILE)
  --batch     quit after -x FILE (also the case when standard input is not a terminal
              and has no more commands)
  --gdb [HOST:]PORT  serve gdb's remote protocol instead of the REPL (gdb: target remote :PORT);
              127.0.0.1 unless HOST is given; the machine runs until gdb attaches
  --gdb-wait  stopped at the first instruction until gdb attaches (as qemu -S); alone, it
              listens on 127.0.0.1:1234 (a program always waits, as with gdbserver)
Commands come from the terminal (help lists them), or one per line on standard input.
Exit status when the commands come from -x FILE or standard input: 1 if any of them printed
an error line, 0 otherwise; 2 for a bad option or an image that cannot be used.`;
}

export const DEBUG_USAGE = debugUsage();

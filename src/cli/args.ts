// Argument parsing shared by the commands.
import { parseArgs } from "node:util";
import { formatTime, MAX_DURATION } from "../machine/units.js";

/**
 * A bad option, a missing or bad value, or a missing argument. main() prints the message on one
 * line after the command's name, with a pointer to the command's --help, and exits 2.
 */
export class UsageError extends Error {}

/** A file that cannot be read or used: main() prints `tramplab: MESSAGE` and exits 2 (src/io.ts). */
export { InputError } from "../io.js";

/** An option the command takes: `string` ones take a value (`--cpus 2` or `--cpus=2`). */
export type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

export const VALUE = { type: "string" } as const;
export const FLAG = { type: "boolean" } as const;

export interface ParsedArgs {
  /** --help or -h was given (before any PROGRAM): the command prints its usage and nothing else. */
  help: boolean;
  /** Flags given, by long name. */
  flags: Set<string>;
  /** Options with a value, by long name; the value is undefined when the arguments ended first. */
  values: Map<string, string | undefined>;
  /** The arguments that are not options. */
  positionals: string[];
  /** With `rest`: the arguments from the first positional on, untouched (a program and its arguments). */
  rest: string[];
}

/**
 * Parses a command's arguments with util.parseArgs. Its tokens are checked here rather than in
 * strict mode so that the errors can keep this command line's wording, and so that a missing
 * value reaches the option's own check (which says what it needs, "got nothing").
 * With `rest`, parsing stops at the first positional: it and everything after it go to `rest`.
 */
export function parseOptions(args: string[], spec: OptionSpec, opts: { rest?: boolean } = {}): ParsedArgs {
  const options: OptionSpec = { ...spec, help: { type: "boolean", short: "h" } };
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  const p: ParsedArgs = { help: false, flags: new Set(), values: new Map(), positionals: [], rest: [] };
  // The first error is reported, unless --help comes later.
  let error: string | undefined;
  for (const t of tokens) {
    if (t.kind === "option-terminator") continue;
    if (t.kind === "positional") {
      if (opts.rest) { p.rest = args.slice(t.index); break; }
      p.positionals.push(t.value);
      continue;
    }
    const o = Object.hasOwn(options, t.name) ? options[t.name] : undefined;
    if (!o) error ??= `unknown option ${t.rawName}`;
    else if (t.name === "help") p.help = true;
    else if (o.type === "boolean") {
      if (t.value !== undefined) error ??= `${t.rawName} takes no value, got ${t.value}`;
      p.flags.add(t.name);
    } else p.values.set(t.name, t.value);
  }
  if (error && !p.help) throw new UsageError(error);
  return p;
}

/** "50ms", "200us", "1s", "3ns" or a plain number, which is ns (one tick of virtual time); at most MAX_DURATION. */
export function parseDuration(v: string | undefined, what = "--time"): bigint {
  const m = v ? /^(\d+)(ns|us|ms|s)?$/.exec(v) : null;
  if (!m) throw new UsageError(`${what} needs a duration like 50ms, 200us, 1s or a plain number of ns, got ${v ?? "nothing"}`);
  const scale = { ns: 1n, us: 1000n, ms: 1_000_000n, s: 1_000_000_000n }[(m[2] ?? "ns") as "ns"];
  // Digits beyond 20 are over the limit in any unit (and BigInt need not parse them).
  const d = m[1].length > 20 ? MAX_DURATION + 1n : BigInt(m[1]) * scale;
  if (d > MAX_DURATION) throw new UsageError(`${what} can be at most ${formatTime(MAX_DURATION)} of virtual time, got ${v}`);
  return d;
}

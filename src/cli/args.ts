// Argument parsing shared by the commands.
import { parseArgs } from "node:util";
import { DURATION_RULE, parseInteger, parseSeed, parseSmallInt, rangeText, readDuration, SEED_RULE, shown } from "../numbers.js";

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
  /** Every value each option was given, in order (for options that may be repeated). */
  all: Map<string, (string | undefined)[]>;
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
  const p: ParsedArgs = { help: false, flags: new Set(), values: new Map(), all: new Map(), positionals: [], rest: [] };
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
      if (t.value !== undefined) error ??= `${t.rawName} takes no value, got ${shown(t.value)}`;
      p.flags.add(t.name);
    } else {
      p.values.set(t.name, t.value);
      p.all.set(t.name, [...(p.all.get(t.name) ?? []), t.value]);
    }
  }
  if (error && !p.help) throw new UsageError(error);
  return p;
}

/** An option's integer value in [min, max] (a range that fits a number), or a one-line UsageError. */
export function intOption(name: string, v: string | undefined, min: number, max: number): number {
  const n = parseSmallInt(v, min, max);
  if (n === undefined) throw new UsageError(`${name} needs ${rangeText(min, max)}, got ${shown(v)}`);
  return n;
}

/** intOption for ranges beyond 2^53 (counts of instructions): the value as a bigint. */
export function bigIntOption(name: string, v: string | undefined, min: bigint, max: bigint): bigint {
  const n = parseInteger(v, min, max);
  if (n === undefined) throw new UsageError(`${name} needs ${rangeText(min, max)}, got ${shown(v)}`);
  return n;
}

/** A seed option (src/numbers.ts: 0 to 2^64 - 1, decimal or 0x hex). */
export function seedOption(name: string, v: string | undefined): bigint {
  const n = parseSeed(v);
  if (n === undefined) throw new UsageError(`${name} needs ${SEED_RULE}, got ${shown(v)}`);
  return n;
}

/** "50ms", "200us", "1s", "3ns" or a plain number, which is ns (one tick of virtual time); at most 1000000s. */
export function durationOption(name: string, v: string | undefined): bigint {
  const d = readDuration(v);
  if (typeof d !== "bigint") throw new UsageError(`${name} needs ${DURATION_RULE}, got ${shown(v)}`);
  return d;
}

// The options of the options table (src/kernel/options.ts) on the command line: `tramplab run`
// takes every option with a flag, `tramplab debug` those marked for it, so that the two accept
// the same spellings and refuse bad values with the same words.
import type { KernelConfig } from "../kernel/config.js";
import { checkReleasePolicy } from "../kernel/ftrace/release.js";
import { choicePhrase, libraryDefault, option, OPTIONS, type KconfigRule, type Option, type PreemptModel } from "../kernel/options.js";
import { checkKernelVersion, versionRule, type KernelVersion } from "../kernel/versions.js";
import { shown } from "../numbers.js";
import { bigIntOption, durationOption, FLAG, intOption, seedOption, UsageError, VALUE, type OptionSpec, type ParsedArgs } from "./args.js";

/** The KernelConfig fields a command line gave (the table says which ones it can give). */
export type KernelOptions = Partial<KernelConfig>;

/**
 * The order flags are checked in, so the first bad one is the one reported: the command line's
 * order from before the table, kept so that which of two bad flags is reported stays the same.
 * A flag not listed is checked after these, in the table's order.
 */
const CHECK_ORDER = ["cpus", "seed", "preempt", "kernel", "kconfig", "release", "cpu-vendor", "recursion", "max-insns", "time", "tracer",
  "filter"];
const rank = (o: Option) => { const i = CHECK_ORDER.indexOf(o.key); return i < 0 ? CHECK_ORDER.length : i; };

/** The options `tramplab run` takes a flag for, in the order they are checked. */
export const RUN_FLAGS = OPTIONS.filter((o) => o.cli).sort((a, b) => rank(a) - rank(b));

/** The kernel options `tramplab debug` shares with `tramplab run`. */
export const KERNEL_FLAGS = RUN_FLAGS.filter((o) => o.cli?.debug);

/** Options in parseOptions' terms: a switch, or a flag that takes a value. */
export function optionSpec(options: readonly Option[]): OptionSpec {
  return Object.fromEntries(options.map((o) => [o.key, o.type.kind === "flag" ? FLAG : VALUE]));
}

/** The kernel options, for a command's option list. */
export const KERNEL_OPTIONS = optionSpec(KERNEL_FLAGS);

/** A flag's value, checked; the error names the flag and what it needs. */
export function flagValue(o: Option, v: string | undefined): unknown {
  const flag = `--${o.key}`;
  const t = o.type;
  switch (t.kind) {
    case "int": return intOption(flag, v, t.min, t.max);
    case "count": return bigIntOption(flag, v, t.min, t.max);
    case "seed": return seedOption(flag, v);
    case "duration": return durationOption(flag, v);
    case "enum":
      if (!t.choices.includes(v as string)) throw new UsageError(`${flag} must be ${choicePhrase(t)}, got ${shown(v)}`);
      return v;
    case "release":
      try { checkReleasePolicy(v ?? ""); } catch (e) { throw new UsageError(`${flag}: ${(e as Error).message}`); }
      return v;
    case "kernel":
      try { return checkKernelVersion(v ?? ""); } catch (e) { throw new UsageError(`${flag}: ${(e as Error).message}`); }
    case "text":
      if (v === undefined) throw new UsageError(`${flag} needs ${t.needs}`);
      return v;
    case "list":
      if (v === undefined || v.trim() === "") throw new UsageError(`${flag} needs ${t.needs}`);
      return v;
    default: throw new Error(`${flag}: a ${t.kind} option has no command-line spelling`);
  }
}

/**
 * Checks the options of `options` given in `p`, in their order, and returns them by
 * their library names (switches as true); the ones not given are left out.
 */
export function flagValues(p: ParsedArgs, options: readonly Option[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of options) {
    if (o.type.kind === "flag") {
      if (p.flags.has(o.key)) out[o.name] = true;
    } else if (o.type.kind === "list") {
      if (p.all.has(o.key)) out[o.name] = p.all.get(o.key)!.map((v) => flagValue(o, v));
    } else if (p.values.has(o.key)) {
      const v = flagValue(o, p.values.get(o.key));
      out[o.name] = o.toLibrary ? o.toLibrary(v) : v;
    }
  }
  if (options.some((o) => o.name === "kernel")) checkVersion(out);
  return out;
}

/** Refuses a preemption model or Kconfig rule the kernel version does not have (versions.ts). */
function checkVersion(values: Record<string, unknown>): void {
  const version = (values.kernel ?? libraryDefault(option("kernel"))) as KernelVersion;
  const model = (values.preempt ?? libraryDefault(option("preempt"))) as PreemptModel;
  try { versionRule(version, model, values.kconfig as KconfigRule | undefined); } catch (e) { throw new UsageError((e as Error).message); }
}

/** Checks the kernel options given in `p` and returns them; the ones not given are left out. */
export function kernelOptions(p: ParsedArgs): KernelOptions {
  return flagValues(p, KERNEL_FLAGS) as KernelOptions;
}
